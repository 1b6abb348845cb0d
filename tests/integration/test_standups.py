"""Standups end to end: store → due check → outbox → real slack_sdk → the Slack emulator.

The clock is frozen at Monday 16 November 2026, 09:00 in Europe/Berlin; the store is the one
`tests.unit.test_standup_facts.seed` builds. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from bot.roster.loader import roster_text
from bot.slack.poster import SlackPoster
from bot.standups.run import STANDUP_CHECK_JOB, check_standups, due_standups, hold_standup
from bot.standups.schedule import set_schedule
from bot.store.models import Job, SlackMessage
from bot.store.standup_models import Standup
from bot.store.standups import record_human_update
from bot.wiring import build_services
from emulators.server import running
from emulators.slack import DEFAULT_TOKEN, SlackEmulator, create_app
from jobs.scheduler import build_scheduler
from jobs.worker import Worker
from tests.conftest import make_settings
from tests.integration.test_slack_outbox import FakeClock, calls, drain_all
from tests.support.store_faults import store_fails
from tests.unit.test_standup_facts import MONDAY_9_BERLIN, berlin_crew, seed
from tests.unit.test_standup_render import SEEDED_STANDUP

CREW = berlin_crew()
PERSONA_KEYS = {role.slack.username: key for key, role in CREW.roles.items()}
AGENTS = ["Planner", "Researcher", "Coder", "Reviewer", "Tester"]
MINUTE = timedelta(minutes=1)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(clock: FakeClock) -> SlackEmulator:
    return SlackEmulator(monotonic=clock.monotonic)


@pytest.fixture
def poster(emulator: SlackEmulator) -> Iterator[SlackPoster]:
    with running(create_app(emulator)) as base:
        yield SlackPoster(token=DEFAULT_TOKEN, base_url=base + "/api/")


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    seed(engine)
    return engine


def threads(emulator: SlackEmulator, channel: str = "#crew"):
    return emulator.channel_transcript(channel).posts


def successful(emulator: SlackEmulator, method: str) -> list:
    """Calls Slack carried out (a rate-limited try is retried and counts once)."""
    return [call for call in calls(emulator, method) if call.error is None]


def as_roster(post) -> str:
    """A thread as the render snapshot writes it: `[role] text` per post."""
    lines = [f"[{PERSONA_KEYS[post.persona]}] {post.text}"]
    return "\n".join(lines + [f"[{PERSONA_KEYS[r.persona]}] {r.text}" for r in post.replies])


def standup_rows(engine: Engine) -> tuple[int, int]:
    """(standups, outbox messages with a standup key)."""
    with engine.connect() as connection:
        standups = connection.execute(select(func.count()).select_from(Standup)).scalar_one()
        messages = connection.execute(
            select(func.count())
            .select_from(SlackMessage)
            .where(SlackMessage.key.startswith("standup:"))  # type: ignore[attr-defined]
        ).scalar_one()
    return standups, messages


def test_at_nine_in_berlin_the_lead_opens_and_every_agent_replies(seeded, poster, emulator, clock):
    assert due_standups(seeded, CREW, MONDAY_9_BERLIN - MINUTE) == []
    assert due_standups(seeded, CREW, MONDAY_9_BERLIN) == ["#crew"]
    [result] = check_standups(seeded, CREW, now=MONDAY_9_BERLIN)
    assert (result.channel, result.day, result.outcome, result.messages) == (
        "#crew",
        "2026-11-16",
        "posted",
        7,
    )
    assert due_standups(seeded, CREW, MONDAY_9_BERLIN + MINUTE) == []
    drain_all(seeded, poster, clock)

    [standup] = threads(emulator)
    assert standup.persona == "Team Lead"
    assert [reply.persona for reply in standup.replies] == [*AGENTS, "Team Lead"]
    assert as_roster(standup) == SEEDED_STANDUP
    coder, summary = standup.replies[2], standup.replies[-1]
    assert "• Opened PR #14 “Fix crash”" in coder.text
    assert "the Tester hands it to the Coder for the fixes" in summary.text


def test_two_schedulers_checking_at_once_post_it_once(seeded, poster, emulator, clock):
    start = threading.Barrier(4)
    results: list = []
    errors: list[BaseException] = []

    def scheduler() -> None:
        try:
            start.wait(10)
            results.extend(check_standups(seeded, CREW, now=MONDAY_9_BERLIN))
        except BaseException as error:  # noqa: BLE001 - handed to the test thread
            errors.append(error)

    workers = [threading.Thread(target=scheduler) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert errors == []
    outcomes = sorted(result.outcome for result in results)
    assert outcomes.count("posted") == 1
    assert set(outcomes) <= {"posted", "in_progress", "already_posted"}
    assert standup_rows(seeded) == (1, 7)
    drain_all(seeded, poster, clock)
    assert len(threads(emulator)) == 1 and len(threads(emulator)[0].replies) == 6
    assert len(successful(emulator, "chat.postMessage")) == 7


def test_a_standup_cut_off_mid_post_is_completed_without_duplicates(
    seeded, poster, emulator, clock
):
    def killed(_statement: str, _parameters: object) -> BaseException:
        return SystemExit("the scheduler was killed")

    def new_post(sql: str) -> bool:
        return sql.lstrip().upper().startswith("INSERT INTO SLACK_MESSAGE")

    # The fourth post of the standup never reaches the outbox: the process dies first.
    with store_fails(seeded, when=new_post, after=3, error=killed):
        with pytest.raises(SystemExit):
            check_standups(seeded, CREW, now=MONDAY_9_BERLIN)
    assert standup_rows(seeded) == (1, 3)
    drain_all(seeded, poster, clock)  # the three that made it are on Slack
    assert len(threads(emulator)[0].replies) == 2

    # A restarted scheduler a minute later leaves it alone: its poster may still be at work.
    later = MONDAY_9_BERLIN + MINUTE
    assert due_standups(seeded, CREW, later) == []
    assert hold_standup(seeded, CREW, channel="#crew", now=later).outcome == "in_progress"
    # Five minutes on it is stale: one check completes it from the stored posts.
    stale = MONDAY_9_BERLIN + 6 * MINUTE
    assert due_standups(seeded, CREW, stale) == ["#crew"]
    [result] = check_standups(seeded, CREW, now=stale)
    assert (result.outcome, result.messages) == ("completed", 7)
    assert check_standups(seeded, CREW, now=stale + MINUTE) == []
    assert hold_standup(seeded, CREW, channel="#crew", now=stale).outcome == "already_posted"
    drain_all(seeded, poster, clock)

    [standup] = threads(emulator)
    assert as_roster(standup) == SEEDED_STANDUP
    assert len(successful(emulator, "chat.postMessage")) == 7
    assert successful(emulator, "chat.update") == []  # the same words: nothing to edit


def test_a_day_without_a_scheduled_standup_posts_nothing(seeded, poster, emulator, clock):
    saturday = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
    assert due_standups(seeded, CREW, saturday) == []
    assert hold_standup(seeded, CREW, channel="#crew", now=saturday).outcome == "not_scheduled"
    assert standup_rows(seeded) == (0, 0)
    # `/crew standup` forces one, once: a second says today's was held.
    forced = hold_standup(seeded, CREW, channel="#crew", now=saturday, force=True)
    again = hold_standup(seeded, CREW, channel="#crew", now=saturday + MINUTE, force=True)
    assert (forced.outcome, again.outcome) == ("posted", "already_posted")
    assert standup_rows(seeded) == (1, 7)
    drain_all(seeded, poster, clock)
    assert len(threads(emulator)) == 1


def test_a_late_check_catches_up_within_the_hour_only(seeded):
    assert due_standups(seeded, CREW, MONDAY_9_BERLIN + 59 * MINUTE) == ["#crew"]
    assert due_standups(seeded, CREW, MONDAY_9_BERLIN + 61 * MINUTE) == []


def test_a_channel_schedule_and_human_replies_reach_the_next_standup(seeded, poster, emulator):
    set_schedule(seeded, channel="#general", cron="30 10 * * 1-5", timezone="Asia/Tokyo")
    tokyo_1030 = datetime(2026, 11, 17, 1, 30, tzinfo=UTC)  # Tuesday 10:30 in Tokyo
    assert due_standups(seeded, CREW, tokyo_1030) == ["#general"]

    hold_standup(seeded, CREW, channel="#crew", now=MONDAY_9_BERLIN)
    reply = {"channel": "#crew", "day": "2026-11-16", "slack_user_id": "U0001"}
    assert record_human_update(seeded, **reply, message_ts="1.0002", text="PR #12 looks good")
    assert record_human_update(seeded, **reply, message_ts="1.0001", text="Back on Tuesday")
    assert not record_human_update(seeded, **reply, message_ts="1.0002", text="PR #12 looks good")

    tuesday = MONDAY_9_BERLIN + timedelta(days=1)
    assert due_standups(seeded, CREW, tuesday) == ["#crew"]
    [result] = check_standups(seeded, CREW, now=tuesday)
    assert result.day == "2026-11-17"
    with seeded.connect() as connection:
        summary = connection.execute(
            select(SlackMessage.text).where(
                SlackMessage.key == "standup:#crew:2026-11-17:lead:summary"
            )
        ).scalar_one()
    assert summary.endswith(
        "*From the humans* (replies to the Monday 16 November standup)\n"
        "• <@U0001>: Back on Tuesday\n"
        "• <@U0001>: PR #12 looks good"
    )
    # Monday's standup reported Friday and the weekend; Tuesday's reports Monday only.
    assert summary.startswith("📋 *Summary* since Monday 16 November: 1 step finished,")


def test_the_scheduler_queues_the_check_and_a_worker_holds_the_standup(
    engine, database_url, tmp_path
):
    scheduler = build_scheduler(engine)
    check = scheduler.get_job(STANDUP_CHECK_JOB)
    assert str(check.trigger) == "cron[minute='*']"
    every_minute = roster_text("default").replace('cron = "0 9 * * 1-5"', 'cron = "* * * * *"')
    (tmp_path / "crew.toml").write_text(every_minute)
    settings = make_settings(database_url, crew_file=tmp_path / "crew.toml", slack_bot_token=None)

    check.func()  # what the scheduler does each minute: queue a check, nothing more
    check.func()  # a second scheduler, or the next minute
    assert Worker(build_services(settings, engine)).run_until_idle() >= 2
    assert standup_rows(engine) == (1, 7)
    with engine.connect() as connection:
        kinds = connection.execute(select(Job.kind, Job.status).order_by(Job.id)).all()
    assert [(kind, status) for kind, status in kinds if kind == STANDUP_CHECK_JOB] == [
        (STANDUP_CHECK_JOB, "done")
    ] * 2
    assert ("slack.outbox", "done") in kinds  # woken for the posts (no token: they wait)


def test_a_reply_in_the_standup_thread_is_found_by_its_thread(seeded, poster, emulator, clock):
    hold_standup(seeded, CREW, channel="#crew", now=MONDAY_9_BERLIN)
    drain_all(seeded, poster, clock)
    [standup] = threads(emulator)
    crew_id = emulator.channel("#crew").id  # Slack's events name the channel by id
    reply = {"channel": crew_id, "slack_user_id": "U0001", "text": "Reviewing PR #12 now"}
    assert record_human_update(seeded, **reply, thread_ts=standup.ts, message_ts="9.1")
    assert not record_human_update(seeded, **reply, thread_ts=standup.ts, message_ts="9.1")
    # A reply to a run's thread, or to one of the agents' answers, is no standup update.
    assert not record_human_update(seeded, **reply, thread_ts="1.2345", message_ts="9.2")
    answer = standup.replies[0].ts
    assert not record_human_update(seeded, **reply, thread_ts=answer, message_ts="9.3")
    # Commands name the channel by id too: it is still #crew, with its one standup a day.
    forced = hold_standup(seeded, CREW, channel=crew_id, now=MONDAY_9_BERLIN, force=True)
    assert (forced.channel, forced.outcome) == ("#crew", "already_posted")
    own = set_schedule(seeded, channel=crew_id, cron="0 9 * * 1-5", timezone="Europe/Berlin")
    assert own.channel == "#crew"

    [result] = check_standups(seeded, CREW, now=MONDAY_9_BERLIN + timedelta(days=1))
    assert (result.day, result.outcome) == ("2026-11-17", "posted")
    with seeded.connect() as connection:
        summary = connection.execute(
            select(SlackMessage.text).where(
                SlackMessage.key == "standup:#crew:2026-11-17:lead:summary"
            )
        ).scalar_one()
    assert summary.endswith("• <@U0001>: Reviewing PR #12 now")
