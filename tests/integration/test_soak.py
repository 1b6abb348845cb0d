"""The soak benchmark's short form: a sustained mixed stream loses nothing and doubles nothing.

`bench/soak.py --short` runs repocrew as a real process against the GitHub and Slack
emulators for half a minute; its last line carries the counts. Latency and queue age are
figures for people to read, not pass marks, so only the counts are asserted.
"""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import REPO

LAST_LINE = re.compile(
    r"soak: events=(?P<events>\d+) lost=(?P<lost>\d+) "
    r"duplicated_side_effects=(?P<duplicated>\d+) p99_ms=\d+ max_queue_age_s=[\d.]+"
)


def test_a_short_soak_loses_and_duplicates_nothing(corpus):
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "soak.py"), "--short"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=110,
    )
    lines = result.stdout.strip().splitlines()
    found = LAST_LINE.fullmatch(lines[-1]) if lines else None
    assert found, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr[-3000:]}"
    counts = {name: int(value) for name, value in found.groupdict().items()}
    assert counts["events"] > 0
    assert (counts["lost"], counts["duplicated"]) == (0, 0), result.stdout
    assert result.returncode == 0, result.stderr[-3000:]
