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


@pytest.mark.skipif(not sandbox_status().available, reason="no sandbox for the tester")
def test_the_live_model_is_reached_at_the_configured_base_url(tmp_path):
    """`demo --live-model` sends the model's calls to REPOCREW_ANTHROPIC_BASE_URL (here a
    stand-in on loopback playing the recorded session), streamed where answers may be long."""
    from emulators.anthropic import AnthropicEmulator
    from emulators.anthropic import create_app as anthropic_app
    from emulators.server import running
    from repocrew import demo_session

    stand_in = AnthropicEmulator(demo_session.whole_run_script())
    with running(anthropic_app(stand_in)) as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("REPOCREW_", "ANTHROPIC"))}
        env |= {"ANTHROPIC_API_KEY": "sk-ant-stand-in-0000", "REPOCREW_ANTHROPIC_BASE_URL": url}
        result = subprocess.run(
            [REPOCREW, "demo", "--json", "--live-model"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=110,
            check=False,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout)["run_state"] == "awaiting_human"
    long = [body for body in stand_in.message_bodies() if body["max_tokens"] >= 4096]
    assert long and all(body.get("stream") for body in long)
