"""`repocrew demo --sprint --json`: a small sprint with the product team on the emulators, its
figures read back from GitHub, Slack and the store's logged transitions: four tasks with their
dependencies, two runs at work at once, a pull request per task merged by octocat, a standup
mid-sprint, a question to a teammate and one to the humans (answered by octocat's comment), and
the sprint's review and retrospective on the tracking issue."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.conftest import REPO

REPOCREW = str(REPO / ".venv" / "bin" / "repocrew")


@pytest.fixture(scope="module")
def summary(tmp_path_factory) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPOCREW_", "ANTHROPIC"))}
    result = subprocess.run(
        [REPOCREW, "demo", "--sprint", "--json"],
        cwd=tmp_path_factory.mktemp("demo"),  # no .env, no crew.toml
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def test_the_sprint_demo_splits_the_goal_and_runs_independent_tasks_in_parallel(summary):
    assert summary["sprint_tasks"] >= 4 and summary["dependency_edges"] >= 2
    assert summary["max_parallel_runs"] >= 2
    assert summary["prs"] == summary["prs_merged"] == summary["sprint_tasks"]
    assert set(summary["tasks"].values()) == {"delivered"}
    assert summary["standup_posts"] > 0


def test_the_sprint_demo_asks_a_role_and_a_human_and_gets_both_answers(summary):
    assert summary["questions_asked"] >= 2 and summary["questions_answered"] >= 2


def test_the_sprint_demo_ends_with_the_review_and_retrospective(summary):
    assert summary["retro_posted"] is True and summary["sprint_state"] == "closed"
