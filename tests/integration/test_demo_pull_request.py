"""`repocrew demo --pull-request`: the crew on a person's pull request, read back from the
GitHub emulator: one review with an inline suggestion and the checklist, an answer in the
comment's thread, then an incremental review of the fix that repeats nothing and resolves the
finding's thread."""

from __future__ import annotations

import json
import os
import subprocess

from tests.conftest import REPO

REPOCREW = str(REPO / ".venv" / "bin" / "repocrew")


def _demo(tmp_path, *options: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPOCREW_", "ANTHROPIC"))}
    return subprocess.run(
        [REPOCREW, "demo", "--pull-request", *options],
        cwd=tmp_path,  # no .env, no crew.toml
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )


def test_the_pull_request_demo_reviews_answers_and_reviews_the_fix_incrementally(tmp_path):
    result = _demo(tmp_path, "--json")

    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert summary["runs"] == ["auto:done", "auto:done"]
    assert (summary["reviews"], summary["incremental_reviews"]) == (2, 1)
    assert summary["inline_comments"] == 1 and summary["checklist_items"] == 6
    assert summary["repeated_findings"] == 0 and summary["resolved_findings"] == 1
    assert summary["thread_replies"] == 1 and summary["summary_comments"] == 1
    assert summary["review_cost_usd"] > 0


def test_the_pull_request_demo_tells_its_story(tmp_path):
    result = _demo(tmp_path)

    assert result.returncode == 0, result.stderr[-3000:]
    assert "the reviewer answered in the thread" in result.stdout
    assert "2 reviews (1 incremental)" in result.stdout and "0 repeated" in result.stdout
