"""`repocrew demo`: the whole crew against the emulators, read back from the emulators."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from bot.sandbox import sandbox_status
from tests.conftest import REPO

REPOCREW = str(REPO / ".venv" / "bin" / "repocrew")


@pytest.mark.skipif(not sandbox_status().available, reason="no sandbox for the tester")
def test_the_demo_runs_the_whole_crew_and_reports_what_the_emulators_saw(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPOCREW_", "ANTHROPIC"))}
    result = subprocess.run(
        [REPOCREW, "demo", "--json"],
        cwd=tmp_path,  # no .env, no crew.toml: the packaged default crew
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert summary["run_state"] == "awaiting_human"
    assert summary["pr"] is not None and summary["commits"] == 2
    assert summary["review_comments"] == 1 and summary["checklist_items"] == 6
    assert summary["check_conclusion"] == "success"
    assert summary["votes"] == dict.fromkeys(
        ["coder", "planner", "researcher", "reviewer", "tester"], "approve"
    )
    # The run's thread (the lead's opening and 9 replies), then the standup: the lead opens,
    # the five agents report, the lead sums up.
    assert summary["standup_posts"] == 7
    assert summary["slack_posts"] == 10 + summary["standup_posts"]
