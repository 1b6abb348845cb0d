"""The Slack outbox end to end: store → drainer → real slack_sdk → the Slack emulator.

Rate limits run on a fake clock shared by the emulator's limiter and the drainer, so thirty
rate-limited posts take milliseconds while every Retry-After is still honoured in full.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.ports.slack import Persona, personas_for
from bot.roster.loader import load_crew
from bot.slack.outbox import MAX_ATTEMPTS, DrainReport, drain, drain_job
from bot.slack.poster import SlackPoster
from bot.store.models import utcnow
from bot.store.slack_outbox import enqueue_message, message_by_key, requeue_failed
from bot.wiring import build_services
from emulators.server import free_port, running
from emulators.slack import DEFAULT_TOKEN, Policy, SlackEmulator, create_app
from emulators.slack.state import BOT_SCOPES, User
from tests.conftest import make_settings
from tests.support.store_faults import store_fails

GENERAL, CREW, HUMAN, BOT, TEAM = "C0001", "C0002", "U0001", "U0002", "T0001"
PERSONAS = personas_for(load_crew(None))


class FakeClock:
    """Seconds since the test began, as the emulator's monotonic clock and the drainer's now."""

    def __init__(self) -> None:
        self.start = utcnow()
        self.seconds = 0.0

    def monotonic(self) -> float:
        return self.seconds

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.seconds)

    def advance_to(self, when: datetime) -> None:
        self.seconds = max(self.seconds, (when - self.start).total_seconds())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(clock: FakeClock) -> SlackEmulator:
    return SlackEmulator(monotonic=clock.monotonic)  # Slack's limits: 1 post/s/channel, burst 3


@pytest.fixture
def api(emulator: SlackEmulator) -> Iterator[str]:
    with running(create_app(emulator)) as base:
        yield base + "/api/"


@pytest.fixture
def poster(api: str) -> SlackPoster:
    return SlackPoster(token=DEFAULT_TOKEN, base_url=api)


def drain_all(
    engine: Engine, poster: SlackPoster, clock: FakeClock, **options: Any
) -> list[DrainReport]:
    """Drain until nothing is queued, jumping the clock to each Retry-After instead of sleeping."""
    reports = []
    for _ in range(200):
        reports.append(drain(engine, poster, personas=PERSONAS, now=clock.now, **options))
        if reports[-1].next_due is None:
            return reports
        clock.advance_to(reports[-1].next_due)
    raise AssertionError("the outbox did not drain")


def texts(emulator: SlackEmulator, channel: str = CREW) -> list[str]:
    return [post.text for post in emulator.channel_transcript(channel).posts]


def calls(emulator: SlackEmulator, method: str) -> list:
    return [call for call in emulator.calls if call.method == method]


def test_thirty_messages_arrive_in_order_through_the_rate_limit(engine, poster, emulator, clock):
    for n in range(30):
        enqueue_message(engine, channel=CREW, key=f"m{n}", text=f"message {n}", role="coder")
    started = time.monotonic()
    reports = drain_all(engine, poster, clock)
    assert time.monotonic() - started < 15  # the drainer never sleeps on a 429

    assert texts(emulator) == [f"message {n}" for n in range(30)]
    refused = emulator.rate_limited
    assert len(refused) >= 20  # the burst of 3 went, then about one a second
    # Every 429 parked the channel until Retry-After: at most one refusal per drain, and no
    # post was ever tried before the emulator's own bucket had refilled.
    assert len(refused) <= len(reports)
    assert all(limit.retry_after == 1 for limit in refused)
    assert clock.seconds >= 27
    assert sum(report.posted for report in reports) == 30
    assert all(message_by_key(engine, key=f"m{n}").status == "sent" for n in range(30))


def test_a_rate_limited_channel_does_not_hold_up_the_others(engine, poster, emulator, clock):
    ops = emulator.add_channel("ops", members=(HUMAN, BOT)).id
    for n in range(6):
        enqueue_message(engine, channel=CREW, key=f"crew{n}", text=f"crew {n}", role="coder")
    for n in range(3):
        enqueue_message(engine, channel=ops, key=f"ops{n}", text=f"ops {n}", role="tester")
    first = drain(engine, poster, personas=PERSONAS, now=clock.now)
    # #crew's burst of 3 went, its 4th got a 429 and the drainer moved on to #ops at once.
    assert (first.posted, first.deferred) == (6, {CREW: clock.now() + timedelta(seconds=1)})
    assert texts(emulator, ops) == ["ops 0", "ops 1", "ops 2"]
    drain_all(engine, poster, clock)
    assert texts(emulator) == [f"crew {n}" for n in range(6)]


def test_retry_after_is_honoured_in_real_time(engine):
    # A burst of 10, then 1 a second: 14 posts meet a 429 unless the first 10 take 4 s (at 10
    # a second, a loaded machine posted 15 without one: the bucket refilled as fast).
    emulator = SlackEmulator(rate_limits={"chat.postMessage": Policy(1, burst=10, per="channel")})
    for n in range(14):
        enqueue_message(engine, channel=CREW, key=f"m{n}", text=f"message {n}", role="coder")
    started = time.monotonic()
    with running(create_app(emulator)) as base:
        poster = SlackPoster(token=DEFAULT_TOKEN, base_url=base + "/api/")
        for _ in range(20):
            report = drain(engine, poster, personas=PERSONAS)
            if report.next_due is None:
                break
            time.sleep(max(0.0, (report.next_due - utcnow()).total_seconds()))
    assert texts(emulator) == [f"message {n}" for n in range(14)]
    assert emulator.rate_limited and 1 <= time.monotonic() - started < 10


def test_replies_land_in_their_parents_thread(engine, poster, emulator, clock):
    emulator.force_rate_limit("chat.postMessage", times=1, retry_after=3)
    enqueue_message(
        engine,
        channel=CREW,
        key="run:12",
        text="Task",
        role="lead",
        thread_key="run:12",
        parent=True,
    )
    enqueue_message(
        engine, channel=CREW, key="run:12:plan", text="Plan", role="planner", thread_key="run:12"
    )
    first = drain(engine, poster, personas=PERSONAS, now=clock.now)
    assert first.posted == 0 and texts(emulator) == []  # the parent was refused; the reply waits
    assert first.next_due == clock.now() + timedelta(seconds=3)
    drain_all(engine, poster, clock)
    enqueue_message(
        engine, channel=CREW, key="run:12:code", text="Code", role="coder", thread_key="run:12"
    )
    drain_all(engine, poster, clock)

    [task] = emulator.channel_transcript(CREW).posts
    assert (task.persona, task.text) == ("Team Lead", "Task")
    assert [(r.persona, r.text) for r in task.replies] == [("Planner", "Plan"), ("Coder", "Code")]


def test_a_reply_whose_parent_failed_is_posted_unthreaded(engine, poster, emulator, clock):
    bogus = "C0NOWHERE"
    enqueue_message(
        engine, channel=bogus, key="p", text="Task", role="lead", thread_key="t", parent=True
    )
    enqueue_message(engine, channel=CREW, key="p2", text="Other task", role="lead")
    enqueue_message(engine, channel=bogus, key="r", text="Reply", role="coder", thread_key="t")
    [report] = drain_all(engine, poster, clock)
    assert report.failed == [("p", "channel_not_found"), ("r", "channel_not_found")]
    assert texts(emulator) == ["Other task"]


def test_enqueueing_a_key_again_edits_the_message(engine, poster, emulator, clock):
    enqueue_message(engine, channel=CREW, key="run:1:step:plan-1", text="Planning…", role="planner")
    drain_all(engine, poster, clock)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Plan* ready"}}]
    enqueue_message(
        engine,
        channel=CREW,
        key="run:1:step:plan-1",
        text="Plan ready",
        blocks=blocks,
        role="planner",
    )
    enqueue_message(  # the same content again (a job that ran twice) changes nothing
        engine,
        channel=CREW,
        key="run:1:step:plan-1",
        text="Plan ready",
        blocks=blocks,
        role="planner",
    )
    [report] = drain_all(engine, poster, clock)

    assert (report.posted, report.edited) == (0, 1)
    [post] = emulator.channel_transcript(CREW).posts
    assert (post.text, post.edited, post.persona) == ("Plan ready", True, "Planner")
    assert len(calls(emulator, "chat.postMessage")) == 1
    assert len(calls(emulator, "chat.update")) == 1
    stored = message_by_key(engine, key="run:1:step:plan-1")
    assert (stored.status, stored.revision, stored.ts) == ("sent", 2, post.ts)


def test_posts_ask_slack_not_to_unfurl_links(engine, poster, emulator, clock):
    """A link in a summary is not fetched by Slack's previewer (a model could put data in it)."""
    text = "see https://evil.example/?d=x"
    enqueue_message(engine, channel=CREW, key="k", text=text, role="lead")
    drain_all(engine, poster, clock)

    [post] = calls(emulator, "chat.postMessage")
    assert (post.args.get("unfurl_links"), post.args.get("unfurl_media")) == (False, False)


def test_personas_show_in_the_transcript(engine, poster, emulator, clock):
    enqueue_message(engine, channel=CREW, key="a", text="The plan is ready", role="planner")
    enqueue_message(engine, channel=CREW, key="b", text="On it", role="coder")
    enqueue_message(engine, channel=CREW, key="c", text="Plain", role="nobody")
    drain_all(engine, poster, clock)
    assert emulator.render_transcript() == (
        "#crew\n"
        "  Planner :world_map: (via repocrew): The plan is ready\n"
        "  Coder :hammer_and_wrench: (via repocrew): On it\n"
        "  repocrew: Plain\n"
    )
    assert {post.author for post in emulator.channel_transcript(CREW).posts} == {BOT}


def test_without_chat_write_customize_the_persona_is_named_in_the_text(
    engine, api, emulator, clock
):
    emulator.add_token("xoxb-plain", scopes=BOT_SCOPES - {"chat:write.customize"})
    poster = SlackPoster(token="xoxb-plain", base_url=api)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "Steps: 1, 2"}}]
    enqueue_message(engine, channel=CREW, key="a", text="The plan", blocks=blocks, role="planner")
    enqueue_message(engine, channel=CREW, key="b", text="On it", role="coder")
    drain_all(engine, poster, clock)
    enqueue_message(engine, channel=CREW, key="b", text="Done", role="coder")
    drain_all(engine, poster, clock)

    posts = emulator.channel_transcript(CREW).posts
    assert [(p.persona, p.author, p.text) for p in posts] == [
        (None, BOT, "*Planner:* The plan"),
        (None, BOT, "*Coder:* Done"),
    ]
    plan = emulator.workspace.messages[CREW][posts[0].ts]
    assert plan.blocks[0]["elements"][0]["text"] == ":world_map: *Planner*"
    assert poster.falls_back(PERSONAS["planner"])
    refusals = [c.error for c in calls(emulator, "chat.postMessage") if c.error]
    assert refusals == ["missing_scope"]  # learnt once, remembered after


@pytest.mark.parametrize("channel", [GENERAL, "#general"])
def test_not_in_channel_joins_then_posts(engine, poster, emulator, clock, channel):
    enqueue_message(engine, channel=channel, key="hello", text="Hello, general", role="lead")
    [report] = drain_all(engine, poster, clock)
    assert report.posted == 1 and report.failed == []
    assert texts(emulator, GENERAL) == ["Hello, general"]
    assert BOT in emulator.channel(GENERAL).members
    assert [c.error for c in calls(emulator, "chat.postMessage")] == ["not_in_channel", None]
    assert message_by_key(engine, key="hello").channel_id == GENERAL


def test_a_private_channel_it_cannot_join_fails_with_the_reason(engine, poster, emulator, clock):
    secret = emulator.add_channel("secret", private=True).id
    enqueue_message(engine, channel=secret, key="x", text="psst", role="lead")
    [report] = drain_all(engine, poster, clock)
    assert report.failed == [("x", "not_in_channel (join: method_not_supported_for_channel_type)")]


def test_channel_not_found_fails_with_the_reason(engine, poster, emulator, clock):
    emulator.remove_channel(GENERAL)
    enqueue_message(engine, channel=GENERAL, key="gone", text="Anyone?", role="lead")
    enqueue_message(engine, channel=CREW, key="here", text="Still here", role="lead")
    [report] = drain_all(engine, poster, clock)
    assert report.failed == [("gone", "channel_not_found")]
    stored = message_by_key(engine, key="gone")
    assert (stored.status, stored.last_error, stored.ts) == ("failed", "channel_not_found", None)
    assert texts(emulator) == ["Still here"]


@pytest.mark.parametrize("broken", ["invalid_auth", "token_revoked"])
def test_a_bad_token_fails_the_message_and_keeps_it(engine, api, emulator, clock, broken):
    token = "xoxb-unknown" if broken == "invalid_auth" else "xoxb-revoked"
    if broken == "token_revoked":
        emulator.add_token(token)
        emulator.revoke_token(token)
    enqueue_message(engine, channel=CREW, key="k", text="Hello", role="lead")
    [report] = drain_all(engine, SlackPoster(token=token, base_url=api), clock)
    assert report.failed == [("k", broken)]
    assert (message_by_key(engine, key="k").status, texts(emulator)) == ("failed", [])

    assert requeue_failed(engine, channel=CREW) == 1  # the operator fixed the token
    drain_all(engine, SlackPoster(token=DEFAULT_TOKEN, base_url=api), clock)
    assert texts(emulator) == ["Hello"]


def test_slack_out_of_reach_backs_off_then_fails_with_the_reason(engine, clock):
    dead = SlackPoster(token=DEFAULT_TOKEN, base_url=f"http://127.0.0.1:{free_port()}/api/")
    enqueue_message(engine, channel=CREW, key="k", text="Hello", role="lead")
    reports = drain_all(engine, dead, clock)
    assert len(reports) == MAX_ATTEMPTS
    [(key, reason)] = reports[-1].failed
    assert key == "k" and reason.startswith(f"gave up after {MAX_ATTEMPTS} attempts: URLError")
    assert clock.seconds == sum(2.0 * 2**n for n in range(MAX_ATTEMPTS - 1))  # 2 s, 4 s, …


def test_a_role_with_its_own_token_posts_and_edits_as_its_own_bot(engine, api, emulator, clock):
    with emulator.lock:
        emulator.workspace.add_user(
            User("U0100", TEAM, "coder-bot", "Coder Bot", is_bot=True, bot_id="B0100")
        )
    emulator.add_token("xoxb-coder", user="U0100")
    emulator.join(CREW, user="U0100")
    personas = {**PERSONAS, "coder": Persona("Coder", ":robot_face:", None, "CODER_SLACK_TOKEN")}
    poster = SlackPoster(
        token=DEFAULT_TOKEN, base_url=api, tokens={"CODER_SLACK_TOKEN": "xoxb-coder"}
    )
    enqueue_message(engine, channel=CREW, key="c", text="Coding", role="coder")
    enqueue_message(engine, channel=CREW, key="p", text="Planned", role="planner")
    drain(engine, poster, personas=personas, now=clock.now)
    enqueue_message(engine, channel=CREW, key="c", text="Coded", role="coder")
    report = drain(engine, poster, personas=personas, now=clock.now)

    assert (report.edited, report.failed) == (1, [])  # only the posting token may edit
    posts = emulator.channel_transcript(CREW).posts
    assert [(p.author, p.persona, p.text) for p in posts] == [
        ("U0100", "Coder", "Coded"),
        (BOT, "Planner", "Planned"),
    ]


def test_two_drainers_racing_send_each_message_once_in_order(engine):
    emulator = SlackEmulator(rate_limits={"chat.postMessage": Policy(1000, burst=1000)})
    ops = emulator.add_channel("ops", members=(HUMAN, BOT)).id
    expected = {CREW: [f"crew {n}" for n in range(25)], ops: [f"ops {n}" for n in range(25)]}
    for n in range(25):
        for channel, messages in expected.items():
            enqueue_message(
                engine, channel=channel, key=messages[n], text=messages[n], role="coder"
            )
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(name: str, poster: SlackPoster) -> None:
        try:
            start.wait()
            for _ in range(200):
                report = drain(engine, poster, personas=PERSONAS, max_messages=4, worker_id=name)
                if report.next_due is None:
                    return
        except BaseException as error:  # noqa: BLE001 - handed to the test thread
            errors.append(error)

    with running(create_app(emulator)) as base:
        threads = [
            threading.Thread(
                target=worker,
                args=(f"w{n}", SlackPoster(token=DEFAULT_TOKEN, base_url=base + "/api/")),
            )
            for n in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert errors == []
    for channel, messages in expected.items():
        assert texts(emulator, channel) == messages
    assert len(calls(emulator, "chat.postMessage")) == 50


def test_the_outbox_job_drains_with_the_crews_personas(
    engine, database_url, api, emulator, tmp_path
):
    settings = make_settings(
        database_url,
        slack_bot_token=DEFAULT_TOKEN,
        slack_api_url=api,
        crew_file=tmp_path / "crew.toml",  # absent: the packaged default roster
    )
    enqueue_message(engine, channel=CREW, key="a", text="Reviewing", role="reviewer")
    report = drain_job(engine, settings, poster=build_services(settings, engine).slack_poster())
    assert (report.posted, report.next_due) == (1, None)
    assert [p.shown_as for p in emulator.channel_transcript(CREW).posts] == ["Reviewer"]


def test_without_a_bot_token_the_outbox_job_keeps_everything_queued(engine, database_url):
    enqueue_message(engine, channel=CREW, key="a", text="Hello", role="lead")
    tokenless = make_settings(database_url, slack_bot_token=None)
    report = drain_job(engine, tokenless, poster=build_services(tokenless, engine).slack_poster())
    assert report.posted == 0 and report.next_due is not None
    assert message_by_key(engine, key="a").status == "queued"


def test_a_store_blip_after_the_post_does_not_post_it_again(engine, poster, emulator, clock):
    """Slack has no idempotency key: a post the store failed to record would be sent twice."""

    def marks_sent(sql: str) -> bool:
        return sql.lstrip().upper().startswith("UPDATE SLACK_MESSAGE") and "sent_at" in sql

    enqueue_message(engine, channel=CREW, key="once", text="Posted once", role="lead")
    with store_fails(engine, when=marks_sent, times=2) as failures:
        drain_all(engine, poster, clock, record_retry_seconds=(0.01, 0.01, 0.01))
        drain_all(engine, poster, clock)

    assert len(failures) == 2 and texts(emulator) == ["Posted once"]
    assert message_by_key(engine, key="once").status == "sent"
