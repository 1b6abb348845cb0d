"""Slack failing under a team run, through slack_sdk against the emulator: a 429 storm, the
bot token revoked and restored, the crew's channel deleted. Posts are delayed, kept and sent
again, or kept and reported; never dropped, never doubled. And a worker that dies between a
step's transition and its Slack posts leaves them to the next step, which queues them."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from bot.roster.loader import load_crew
from bot.runs.driver import drive
from bot.runs.lifecycle import crew_snapshot
from bot.runs.progress import create_run, finish_step
from bot.runs.states import RunState
from bot.sandbox import sandbox_status
from bot.settings import Settings
from bot.slack.outbox import SLACK_OUTBOX_JOB
from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from bot.store.models import SlackMessage
from bot.store.queue import enqueue
from bot.store.runs import get_run
from bot.store.slack_outbox import message_by_key
from bot.wiring import local_forge_for, services_for
from tests.support.fault_world import (
    fault_world,
    outbox_settled,
    start_run,
    state_of,
    thread_replies,
    wait_until,
)
from tests.support.identity import prove_link
from tests.support.world import World

HUMAN = "U0001"
ENDED = {"awaiting_human", "failed", "stopped", "budget_exhausted"}
needs_sandbox = pytest.mark.skipif(
    not sandbox_status().available, reason=f"no sandbox: {sandbox_status().reason}"
)


@pytest.fixture
def world(tmp_path) -> Iterator[World]:
    with fault_world(tmp_path) as world:
        yield world


def failed_with(world: World, reason: str) -> list[SlackMessage]:
    table = SlackMessage.__table__  # type: ignore[attr-defined]
    query = select(table).where(table.c.status == "failed", table.c.last_error == reason)
    with world.engine.connect() as connection:
        return list(connection.execute(query).all())


def command(world: World, text: str, channel: str = "#general") -> None:
    response = world.chat.send_command(text, channel=channel, user=HUMAN)
    assert response.status_code == 200, response.text


def told(world: World) -> str:
    return "\n".join(e.text for e in world.chat.workspace.ephemerals if e.user == HUMAN)


@needs_sandbox
def test_posts_survive_a_revoked_token_a_429_storm_and_a_deleted_channel(world):
    chat = world.chat
    chat.revoke_token()
    start_run(world)
    run = world.wait_for(ENDED, timeout=180)
    assert run.state == "awaiting_human", run.reason  # GitHub's side went on regardless

    # Every post was refused for its token and kept, not dropped.
    wait_until(lambda: len(failed_with(world, "token_revoked")) == 10, "the refused posts")
    assert not chat.channel_transcript("#crew").posts
    # The token is fixed; the next drain finds it good and sends what was kept, in order,
    # through a storm of 429s.
    chat.restore_token()
    chat.force_rate_limit("chat.postMessage", times=4, retry_after=1)
    enqueue(world.engine, kind=SLACK_OUTBOX_JOB)
    wait_until(lambda: not failed_with(world, "token_revoked"), "the kept posts queued again")
    rows = outbox_settled(world)
    assert {row.status for row in rows} == {"sent"}, [(r.key, r.last_error) for r in rows]
    replies = thread_replies(world)
    speakers = [reply.persona for reply in replies]
    assert speakers[:7] == [
        "Planner",
        "Researcher",
        "Coder",
        "Reviewer",
        "Coder",
        "Reviewer",
        "Tester",
    ]
    assert len(replies) == 9 and "waits for a human" in replies[-1].text
    posted = [c for c in chat.calls if c.method == "chat.postMessage" and c.error is None]
    assert len(posted) == len(rows) == 10  # the opening and nine replies, each once
    assert len(chat.rate_limited) == 4

    # The channel goes: the stop's edit of the decision is refused, kept and reported.
    chat.remove_channel("#crew")
    prove_link(world, "octocat", channel="#general")
    command(world, f"stop {run.id}")
    wait_until(lambda: state_of(world) == "stopped", "the stop")
    wait_until(lambda: failed_with(world, "channel_not_found"), "the refused edit")
    command(world, f"status {run.id}")
    wait_until(lambda: "Slack posts not delivered" in told(world), "the status")
    assert "Slack posts not delivered: 1 (channel_not_found); they are kept." in told(world)
    kept = message_by_key(world.engine, key=f"run:{run.id}:decision")
    assert (kept.status, kept.last_error) == ("failed", "channel_not_found")


def test_a_step_reply_left_out_by_a_dead_worker_is_queued_by_the_next_step(tmp_path):
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite:///{tmp_path / 'repocrew.db'}",
        work_dir=tmp_path / "work",
    )
    engine = make_engine(settings.database_url)
    upgrade(engine)
    crew = load_crew(None)
    run_id = create_run(engine, repo=str(tmp_path), task="Add a guide", config=crew_snapshot(crew))
    # The plan step's transition committed; the worker died before queuing its posts.
    plan = {"summary": "Write docs/guide.md", "steps": ["write it"]}
    for expected, target, step, content in (
        (RunState.QUEUED, RunState.PLANNING, "", None),
        (RunState.PLANNING, RunState.RESEARCHING, "plan-1", plan),
    ):
        finish_step(
            engine, run_id=run_id, expected=expected, target=target, step=step,
            role="planner", content=content,
        )  # fmt: skip
    assert message_by_key(engine, key=f"run:{run_id}:step:plan-1") is None

    forge = local_forge_for(get_run(engine, run_id), settings)
    services = services_for(engine, settings, run_id, forge=forge)
    for _ in range(2):  # the next job's drive (no step done here), and once more
        assert drive(services, run_id, max_steps=0) == RunState.RESEARCHING

    reply = message_by_key(engine, key=f"run:{run_id}:step:plan-1")
    assert reply is not None and reply.role == "planner" and reply.thread_key == f"run:{run_id}"
    assert "Write docs/guide.md" in json.dumps(json.loads(reply.blocks))
    assert message_by_key(engine, key=f"run:{run_id}:open").parent
    table = SlackMessage.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(table)).scalar_one() == 2
    engine.dispose()
