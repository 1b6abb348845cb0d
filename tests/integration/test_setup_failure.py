"""A repository whose set-up fails: the run ends failed, and the report (the command, the end of
its log, the refused destination, the `[environment]` to write) is on the issue and in the
run's Slack thread. Through the real webhook path, against the emulators."""

from __future__ import annotations

import json
import time

import pytest

from bot.sandbox import sandbox_status
from emulators.anthropic.script import Script
from repocrew import demo_session
from repocrew.world import emulated_world

pytestmark = pytest.mark.skipif(not sandbox_status().available, reason="no sandbox (bubblewrap)")

REACH_OUT = (
    'python3 -c "import urllib.request; '
    "urllib.request.urlopen('http://example.com/install.sh', timeout=10)\""
)


def test_a_failed_set_up_is_reported_on_the_issue_and_in_slack(tmp_path):
    files = demo_session.sample_files()
    files[".repocrew.toml"] += f"\n[environment]\nsetup = [{json.dumps(REACH_OUT)}]\n"
    script = Script([*demo_session.plan_turns(), *demo_session.research_turns()], reuse=True)
    with emulated_world(repo="octo-org/ages", files=files, script=script, root=tmp_path) as world:
        human = world.human()
        number = human.open_issue(demo_session.TASK_TITLE, demo_session.TASK_BODY)
        human.label(number, "crew")
        run = world.wait_for_run(120)
        assert run.state == "failed", run.reason
        assert "could not be set up" in run.reason and "example.com:80" in run.reason
        # The run's row ends first; the posts that say why follow.
        said = _eventually(lambda: _comments(human, world.repo, number), "example.com:80")
        human.close()
        assert "could not be set up" in said and REACH_OUT in said and "[environment]" in said
        _eventually(world.chat.render_transcript, "example.com:80")


def _comments(human, repo: str, number: int) -> str:
    found = human.http.get(f"/repos/{repo}/issues/{number}/comments").json()
    return "\n".join(comment["body"] for comment in found)


def _eventually(read, wanted: str, seconds: float = 30) -> str:
    deadline = time.monotonic() + seconds
    while wanted not in (text := read()):
        assert time.monotonic() < deadline, text
        time.sleep(0.2)
    return text
