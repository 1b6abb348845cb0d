"""Exactly-once Slack posts: a post whose earlier attempt is in doubt is found, not repeated.

A real drainer process is SIGKILLed right after Slack accepted a post and before the store
recorded it (tests/support/slack_drainer.py); the next drainer finds the post on Slack by the
outbox key it carries in its metadata, records it and sends only what is left. The Slack
emulator serves the real slack_sdk over HTTP and returns metadata only on
`include_all_metadata`, as Slack does.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from bot.ports.slack import PostMark, personas_for
from bot.roster.loader import load_crew
from bot.slack.outbox import DrainReport, drain
from bot.slack.post_marks import post_metadata
from bot.slack.poster import SlackPoster
from bot.store.models import utcnow
from bot.store.slack_outbox import enqueue_message, message_by_key
from emulators.server import running
from emulators.slack import DEFAULT_TOKEN, Policy, SlackEmulator, create_app
from emulators.slack.state import BOT_SCOPES
from tests.conftest import make_settings
from tests.support.slack_drainer import spawn
from tests.support.store_faults import store_fails

CREW, HUMAN = "C0002", "U0001"
PERSONAS = personas_for(load_crew(None))
HISTORY = {"channels:history", "groups:history"}
LEASE = 1.0  # the killed drainer's hold on the channel, seconds


@pytest.fixture
def emulator() -> SlackEmulator:
    return SlackEmulator(rate_limits={"chat.postMessage": Policy(100, burst=100, per="channel")})


@pytest.fixture
def api(emulator: SlackEmulator) -> Iterator[str]:
    with running(create_app(emulator)) as base:
        yield base + "/api/"


def _enqueue_run_thread(engine: Engine) -> list[str]:
    """A run's thread (an opening and two replies) and a standalone post; their texts."""
    thread = "run:1"
    enqueue_message(engine, channel=CREW, key="run:1:open", text="Run 1", role="lead",
                    thread_key=thread, parent=True)  # fmt: skip
    for step, role in (("plan", "planner"), ("code", "coder")):
        enqueue_message(engine, channel=CREW, key=f"run:1:{step}", text=f"{step} done",
                        role=role, thread_key=thread)  # fmt: skip
    enqueue_message(engine, channel=CREW, key="standup:1", text="Standup", role="lead")
    return ["Run 1", "plan done", "code done", "Standup"]


def _killed(drainer: subprocess.Popen) -> None:
    _, errors = drainer.communicate(timeout=60)
    assert drainer.returncode == -9, errors.decode()


def _everything(emulator: SlackEmulator) -> list[str]:
    posts = emulator.channel_transcript(CREW).posts
    return [text for post in posts for text in (post.text, *(r.text for r in post.replies))]


def _drain_after_the_lease(engine: Engine, poster: SlackPoster) -> DrainReport:
    time.sleep(LEASE + 0.2)  # the dead drainer's lease on the channel runs out
    report = drain(engine, poster, personas=PERSONAS)
    assert report.next_due is None, report
    return report


# the post the drainer dies right after → (where it dies, how the post is looked for)
CRASHES = {
    "opening": ("after:post:1", "conversations.history"),
    "reply": ("after:post:2", "conversations.replies"),
    "standalone": ("after:post:4", "conversations.history"),
}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("where", list(CRASHES))
def test_a_drainer_killed_between_the_post_and_its_record_posts_once(
    where, engine, database_url, api, emulator
):
    expected = _enqueue_run_thread(engine)
    settings = make_settings(database_url, slack_bot_token=DEFAULT_TOKEN, slack_api_url=api)
    crash_at, lookup = CRASHES[where]
    _killed(spawn(settings, crash_at=crash_at, lease_seconds=LEASE))
    posted = int(crash_at.rsplit(":", 1)[1])
    assert len(_everything(emulator)) == posted  # Slack has it; the store does not know yet

    report = _drain_after_the_lease(engine, SlackPoster(token=DEFAULT_TOKEN, base_url=api))

    assert (report.found, report.posted) == (1, len(expected) - posted)
    assert [c.method for c in emulator.calls if c.method.startswith("conversations.")] == [lookup]
    assert sorted(_everything(emulator)) == sorted(expected)  # each once
    opening = emulator.channel_transcript(CREW).posts[0]
    assert (opening.text, [r.text for r in opening.replies]) == ("Run 1", expected[1:3])
    for key in ("run:1:open", "run:1:plan", "run:1:code", "standup:1"):
        assert message_by_key(engine, key=key).status == "sent"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_post_found_in_doubt_is_edited_to_the_text_enqueued_since(
    engine, database_url, api, emulator
):
    _enqueue_run_thread(engine)
    settings = make_settings(database_url, slack_bot_token=DEFAULT_TOKEN, slack_api_url=api)
    _killed(spawn(settings, crash_at="after:post:2", lease_seconds=LEASE))
    enqueue_message(engine, channel=CREW, key="run:1:plan", text="plan done (v2)",
                    role="planner", thread_key="run:1")  # fmt: skip

    report = _drain_after_the_lease(engine, SlackPoster(token=DEFAULT_TOKEN, base_url=api))

    assert (report.found, report.edited, report.posted) == (1, 1, 2)
    (opening, standup) = emulator.channel_transcript(CREW).posts
    assert [r.text for r in opening.replies] == ["plan done (v2)", "code done"]
    edits = [c for c in emulator.calls if c.method == "chat.update"]
    assert [c.args["metadata"]["event_payload"]["revision"] for c in edits] == [2]


def test_a_store_outage_after_the_post_is_ridden_out_by_the_next_drain(engine, api, emulator):
    """The store stays down past the drainer's retries: the job fails with the post made;
    the next drainer (after the lease) finds it instead of posting it again."""

    def marks_sent(sql: str) -> bool:
        return sql.lstrip().upper().startswith("UPDATE SLACK_MESSAGE") and "sent_at" in sql

    poster = SlackPoster(token=DEFAULT_TOKEN, base_url=api)
    enqueue_message(engine, channel=CREW, key="once", text="Posted once", role="lead")
    with store_fails(engine, when=marks_sent, times=3), pytest.raises(Exception, match="went"):
        drain(engine, poster, lease_seconds=LEASE, record_retry_seconds=(0.01, 0.01))
    later = utcnow() + timedelta(seconds=LEASE * 2)
    report = drain(engine, poster, now=lambda: later)

    assert (report.found, report.posted) == (1, 0)
    assert _everything(emulator) == ["Posted once"]
    assert message_by_key(engine, key="once").status == "sent"


def test_a_mark_planted_by_someone_else_does_not_stop_the_post(engine, api, emulator):
    """Anyone may post metadata: only a post of the crew's own bot counts as found."""
    enqueue_message(engine, channel=CREW, key="once", text="The real post", role="lead")
    # An attempt Slack never answered (out of reach) leaves the message in doubt.
    unreachable = SlackPoster(token=DEFAULT_TOKEN, base_url="http://127.0.0.1:9/api/")
    assert drain(engine, unreachable).deferred
    planted = emulator.post_as(HUMAN, "a look-alike", channel=CREW)
    planted.metadata = post_metadata(PostMark("once", 1))  # the crew's mark, on a human's post
    later = utcnow() + timedelta(minutes=10)

    report = drain(engine, SlackPoster(token=DEFAULT_TOKEN, base_url=api), now=lambda: later)

    assert (report.found, report.posted) == (0, 1)
    assert _everything(emulator) == ["a look-alike", "The real post"]
    lookups = [c.method for c in emulator.calls if c.method.startswith("conversations.")]
    assert lookups == ["conversations.history"]  # it did look, and found only the look-alike


def test_without_history_scopes_a_post_in_doubt_is_sent_all_the_same(engine, api, emulator):
    """A token that may not read history cannot look: the post goes out (at the risk of a
    repeat, as before), and nothing is lost."""
    emulator.add_token(
        "xoxb-no-history", scopes=BOT_SCOPES - {"channels:history", "groups:history"}
    )
    enqueue_message(engine, channel=CREW, key="once", text="Posted", role="lead")
    unreachable = SlackPoster(token="xoxb-no-history", base_url="http://127.0.0.1:9/api/")
    assert drain(engine, unreachable).deferred
    later = utcnow() + timedelta(minutes=10)

    report = drain(engine, SlackPoster(token="xoxb-no-history", base_url=api), now=lambda: later)

    assert (report.found, report.posted) == (0, 1)
    assert _everything(emulator) == ["Posted"]
    refused = [c.error for c in emulator.calls if c.method == "conversations.history"]
    assert refused == ["missing_scope"]
