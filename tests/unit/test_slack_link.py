"""`/crew link` and its `slack.link` job with a fake of our identity port (no GitHub): only a
device code GitHub saw approved links, and what is linked is the account GitHub names."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.ports.identity import DeviceCode, DevicePoll, OAuthFailed, ProvenUser
from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from bot.store.models import Job, SlackLink
from bot.store.queue import ClaimedJob
from bot.store.slack_links import link_proven
from bot.triggers.slack_asker import Asker
from bot.triggers.slack_link import SLACK_LINK_JOB, poll_link, start_link
from tests.conftest import make_settings
from tests.support.services import fake_services

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
ADMIN, READER = ProvenUser(11, "octocat"), ProvenUser(22, "reader")


class FakeIdentity:
    """Answers polls from a script; records the device codes it was polled with."""

    def __init__(self, *answers: DevicePoll | Exception) -> None:
        self.answers = list(answers)
        self.polled: list[str] = []

    def start_device(self) -> DeviceCode:
        return DeviceCode(
            "secret-device-code", "WDJB-MJHT", "https://github.com/login/device", 900, 5
        )

    def poll_device(self, device_code: str) -> DevicePoll:
        self.polled.append(device_code)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


class Told:
    def __init__(self) -> None:
        self.texts: list[str] = []

    def ephemeral(self, channel, user, text, blocks) -> None:
        self.texts.append(text)


@pytest.fixture
def engine(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def services(engine, tmp_path, identity, told, now=NOW):
    settings = make_settings(f"sqlite:///{tmp_path / 'store.db'}")
    base = fake_services(engine, settings, replies=told)
    return replace(base, identity=lambda: identity, clock=lambda: now)


def queued(engine) -> list[Job]:
    with Session(engine) as session:
        return list(session.exec(select(Job).where(Job.kind == SLACK_LINK_JOB)))


def links(engine) -> list[tuple[str, int, str]]:
    with Session(engine) as session:
        rows = session.exec(select(SlackLink))
        return [(r.slack_user_id, r.github_user_id, r.github_login) for r in rows]


def started(engine, tmp_path, identity, told, wanted=None) -> ClaimedJob:
    asker = Asker(services(engine, tmp_path, identity, told), "T1", "U1", "C1", key="k")
    start_link(asker, wanted)
    (job,) = queued(engine)
    return ClaimedJob(job.id or 0, job.kind, None, json.loads(job.args), 0, 5)


def test_the_code_is_shown_and_the_first_poll_waits_the_interval(engine, tmp_path):
    told = Told()
    job = started(engine, tmp_path, FakeIdentity(), told)
    assert "`WDJB-MJHT`" in told.texts[0] and "<https://github.com/login/device>" in told.texts[0]
    assert "secret-device-code" not in told.texts[0]
    (row,) = queued(engine)
    assert row.run_after.replace(tzinfo=UTC) == NOW + timedelta(seconds=5)
    assert job.args["device_code"] == "secret-device-code" and links(engine) == []


def test_pending_and_slow_down_poll_again_later_then_the_approval_links_the_id(engine, tmp_path):
    told = Told()
    identity = FakeIdentity(
        DevicePoll("pending"), DevicePoll("slow_down", interval=10), DevicePoll("granted", READER)
    )
    job = started(engine, tmp_path, identity, told)
    poll_link(job, services(engine, tmp_path, identity, told))
    assert len(queued(engine)) == 2 and links(engine) == []
    poll_link(job, services(engine, tmp_path, identity, told))
    last = queued(engine)[-1]
    assert last.run_after.replace(tzinfo=UTC) == NOW + timedelta(seconds=10)
    poll_link(job, services(engine, tmp_path, identity, told))
    assert links(engine) == [("U1", 22, "reader")]
    assert told.texts[-1] == "Linked: GitHub confirmed you are @reader."
    assert len(queued(engine)) == 3  # nothing more is polled


def test_a_claimed_login_is_not_linked_when_github_names_another(engine, tmp_path):
    told = Told()
    identity = FakeIdentity(DevicePoll("granted", READER))
    job = started(engine, tmp_path, identity, told, wanted="octocat")
    poll_link(job, services(engine, tmp_path, identity, told))
    assert links(engine) == []
    assert "GitHub says you are @reader, not @octocat" in told.texts[-1]


@pytest.mark.parametrize(
    ("outcome", "said"),
    [("expired", "The code expired"), ("denied", "You cancelled"), ("failed", "refused")],
)
def test_an_ended_flow_links_nothing(engine, tmp_path, outcome, said):
    told = Told()
    identity = FakeIdentity(DevicePoll(outcome, detail="incorrect_device_code"))
    job = started(engine, tmp_path, identity, told)
    poll_link(job, services(engine, tmp_path, identity, told))
    assert links(engine) == [] and said in told.texts[-1] and len(queued(engine)) == 1


def test_past_its_expiry_the_code_is_not_polled(engine, tmp_path):
    told, identity = Told(), FakeIdentity()
    job = started(engine, tmp_path, identity, told)
    poll_link(job, services(engine, tmp_path, identity, told, now=NOW + timedelta(minutes=16)))
    assert identity.polled == [] and "expired" in told.texts[-1] and links(engine) == []


def test_github_unreachable_polls_again(engine, tmp_path):
    told = Told()
    identity = FakeIdentity(OAuthFailed("down"), DevicePoll("granted", ADMIN))
    job = started(engine, tmp_path, identity, told)
    poll_link(job, services(engine, tmp_path, identity, told))
    assert len(queued(engine)) == 2 and links(engine) == []
    poll_link(job, services(engine, tmp_path, identity, told))
    assert links(engine) == [("U1", 11, "octocat")]


def test_a_proven_account_moves_from_its_previous_slack_user(engine):
    link_proven(engine, team="T1", user="U9", github_user_id=11, login="octocat")
    moved = link_proven(engine, team="T1", user="U1", github_user_id=11, login="octocat")
    assert moved == "U9" and links(engine) == [("U1", 11, "octocat")]
