"""`/crew` in Slack and the decision buttons, with fakes for our own ports (no Slack, no GitHub).

Requests go in as Slack sends them (a form, or a form holding a JSON payload), stored as
deliveries and dispatched by `handle_slack_delivery`, as the worker does.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select
from sqlmodel import Session

import bot.triggers.registry  # noqa: F401  (registers the handlers)
import bot.triggers.slack_commands as commands
from bot.ports.slack import Rejected
from bot.roster.loader import load_crew
from bot.runs.lifecycle import CREW_RUN_JOB, crew_snapshot
from bot.runs.progress import create_run
from bot.runs.states import RunState
from bot.slack.blocks import APPROVE, REQUEST_CHANGES, STOP, Tally, awaiting_human
from bot.store.deliveries import get_delivery
from bot.store.engine import make_engine, session_scope
from bot.store.migrate import upgrade
from bot.store.models import Delivery, Job, Run, SlackLink, SlackMessage
from bot.store.runs import get_run, outputs, update_run
from bot.store.slack_links import link_proven
from bot.store.slack_outbox import enqueue_message
from bot.store.standup_models import HumanUpdate, StandupSchedule
from bot.triggers import slack_messages
from bot.triggers.slack_deliveries import detail_of, handle_slack_delivery
from tests.conftest import REPO as REPO_ROOT
from tests.conftest import make_settings
from tests.support.services import fake_services

REPO = "octo-org/hello"
TEAM, CHANNEL = "T1", "C1"


@dataclass
class Issue:
    number: int


class FakeGateway:
    """Permissions by login; records issues and comments it was asked to make."""

    def __init__(self, permissions: dict[str, str]) -> None:
        self.permissions = permissions
        self.issues: list[tuple[str, str, str | None]] = []
        self.comments: list[tuple[int, str, str]] = []

    def permission_of(self, login: str) -> str:
        return self.permissions.get(login, "none")

    def read_text(self, path: str) -> str | None:
        return None

    def create_comment(self, thread: int, body: str, *, role: str) -> None:
        self.comments.append((thread, body, role))

    def create_issue(self, title: str, body: str = "", *, labels=(), role=None) -> Issue:
        self.issues.append((title, body, role))
        return Issue(40 + len(self.issues))


class FakeReplies:
    """Records ephemeral answers and opened modals; can be told to fail like Slack does."""

    def __init__(self) -> None:
        self.ephemerals: list[tuple[str, str, str]] = []
        self.views: list[tuple[str, dict]] = []
        self.refuse: str | None = None  # every call fails with this Slack error
        self.refuse_views: str | None = None

    def ephemeral(self, channel: str, user: str, text: str, blocks) -> None:
        if self.refuse:
            raise Rejected(self.refuse)
        self.ephemerals.append((channel, user, text))

    def open_view(self, trigger_id: str, view: dict) -> str:
        if self.refuse or self.refuse_views:
            raise Rejected(self.refuse or self.refuse_views or "")
        self.views.append((trigger_id, view))
        return "V0001"

    def told(self, user: str) -> str:
        return "\n".join(text for _, who, text in self.ephemerals if who == user)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Any]:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path):
    return make_settings(f"sqlite:///{tmp_path / 'store.db'}", crew_file=tmp_path / "none.toml")


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway({"maintainer": "admin", "writer": "write", "reader": "read"})


@pytest.fixture
def slack() -> FakeReplies:
    return FakeReplies()


@pytest.fixture
def world(engine, settings, gateway, slack):
    """(send, engine): `send(kind, body)` stores a Slack request and runs its handlers."""

    serial = itertools.count()
    services = fake_services(
        engine, settings, gateway=gateway, installations={REPO: 1}, replies=slack
    )

    def send(kind: str, body: dict, detail: str = "") -> int:
        form = {"payload": json.dumps(body)} if kind != "command" else body
        with session_scope(engine) as session:
            row = Delivery(
                source="slack",
                delivery_id=f"d{next(serial)}",
                event=kind,
                action=detail,
                outcome="queued",
                payload=urlencode(form),
            )
            session.add(row)
            session.flush()
            row_id = row.id
        return handle_slack_delivery(get_delivery(engine, row_id), services)

    return send


def crew(send, text: str, user: str = "U1", trigger: str = "trig-1") -> int:
    body = {
        "team_id": TEAM,
        "channel_id": CHANNEL,
        "user_id": user,
        "command": "/crew",
        "text": text,
        "trigger_id": trigger,
    }
    return send("command", body, "/crew")


def click(send, action_id: str, run_id: int, user: str = "U1") -> int:
    body = {
        "type": "block_actions",
        "user": {"id": user, "team_id": TEAM},
        "team": {"id": TEAM},
        "channel": {"id": "C0002"},
        "trigger_id": f"click-{action_id}-{user}",
        "actions": [{"action_id": action_id, "value": str(run_id), "type": "button"}],
    }
    return send("block_actions", body)


def link(engine, user: str, login: str) -> None:
    """A link as `/crew link` leaves it once GitHub proved the account (tests/unit/
    test_slack_link.py proves that part)."""
    github_id = 1000 + sum(map(ord, login))
    link_proven(engine, team=TEAM, user=user, github_user_id=github_id, login=login)


def waiting_run(engine, state: RunState = RunState.AWAITING_HUMAN) -> int:
    run_id = create_run(
        engine,
        repo=REPO,
        task="Validate ages",
        title="Validate ages",
        forge="github",
        installation_id=1,
        issue_number=5,
        config=crew_snapshot(load_crew(None)),
    )
    update_run(engine, run_id=run_id, state=state, pr_number=7)
    return run_id


def rows(engine, model) -> list[Any]:
    with Session(engine) as session:
        return list(session.exec(select(model)).scalars())


def jobs(engine, kind: str) -> int:
    return sum(1 for job in rows(engine, Job) if job.kind == kind)


# -- grammar and table ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ("help", "")),
        ("  help ", ("help", "")),
        ("TASK octo/x Fix it now", ("task", "octo/x Fix it now")),
        ("stop 12", ("stop", "12")),
        (
            'standup schedule "0 9 * * 1-5" Europe/Berlin',
            ("standup", 'schedule "0 9 * * 1-5" Europe/Berlin'),
        ),  # noqa: E501
        ("deploy prod", ("unknown", "prod")),
    ],
)
def test_the_grammar(text, expected):
    assert commands.parse(text) == expected


def test_help_lists_every_command_and_the_readme_documents_them():
    readme = (REPO_ROOT / "README.md").read_text()
    for name, command in commands.COMMANDS.items():
        assert f"`/crew {command.usage}`" in commands.help_text()
        assert f"/crew {name}" in readme, name


@pytest.mark.parametrize(
    ("description", "title"),
    [
        (
            "Add input validation to parse_age. Negative ages too.",
            "Add input validation to parse_age",
        ),  # noqa: E501
        ("Fix the login page\nIt crashes on Safari.", "Fix the login page"),
        ("Why does 1.5 round down? Check it", "Why does 1.5 round down?"),
        ("x" * 200, "x" * 119 + "…"),
    ],
)
def test_an_issue_title_is_the_first_sentence(description, title):
    assert commands.issue_title(description) == title


def test_interactions_dispatch_by_action_id_and_callback_id():
    assert detail_of("block_actions", "", {"actions": [{"action_id": STOP}]}) == STOP
    view = {"view": {"callback_id": REQUEST_CHANGES}}
    assert detail_of("view_submission", "", view) == REQUEST_CHANGES
    assert detail_of("command", "/crew", {"command": "/crew"}) == "/crew"


# -- /crew link and /crew task ----------------------------------------------------------------


def test_an_unlinked_user_is_told_how_to_link(world, engine, gateway, slack):
    assert crew(world, "task octo-org/hello Add validation") == 1
    assert "Link your account once with `/crew link`" in slack.told("U1")
    assert gateway.issues == [] and rows(engine, Run) == []


def test_link_without_an_oauth_app_links_nothing_and_names_the_setting(world, engine, slack):
    crew(world, "link @writer", user="U1")
    assert "REPOCREW_GITHUB_OAUTH_CLIENT_ID" in slack.told("U1")
    assert rows(engine, SlackLink) == [] and jobs(engine, "slack.link") == 0


def test_a_linked_reader_cannot_start_a_task(world, engine, gateway, slack):
    link(engine, "U1", "reader")
    crew(world, "task octo-org/hello Add validation")
    assert "write access to `octo-org/hello`" in slack.told("U1") and "`read`" in slack.told("U1")
    assert gateway.issues == [] and rows(engine, Run) == []


def test_a_linked_writer_gets_an_issue_a_run_and_a_channel_reply(world, engine, gateway, slack):
    link(engine, "U1", "writer")
    crew(world, "task octo-org/hello Add validation &amp; tests. Negative ages &lt; 0 too.")

    ((title, body, role),) = gateway.issues
    assert title == "Add validation & tests" and role == "lead"
    assert body.startswith("Add validation & tests. Negative ages < 0 too.")
    assert body.endswith("Requested by @writer from Slack.")
    (run,) = rows(engine, Run)
    assert (run.repo, run.issue_number, run.state, run.installation_id) == (REPO, 41, "queued", 1)
    assert run.requested_by == "writer <writer@users.noreply.github.com>"
    assert jobs(engine, CREW_RUN_JOB) == 1
    (reply,) = rows(engine, SlackMessage)
    assert reply.channel == CHANNEL and reply.role == "lead"
    assert "<@U1> asked the crew for <https://github.com/octo-org/hello/issues/41|" in reply.text
    assert slack.ephemerals == []


def test_a_task_on_a_repo_without_the_app_is_refused(world, engine, gateway, slack):
    link(engine, "U1", "writer")
    crew(world, "task someone/else Do it")
    crew(world, "task not-a-repo", trigger="t2")
    assert "not installed on `someone/else`" in slack.told("U1")
    assert "Usage: `/crew task owner/repo" in slack.told("U1")
    assert gateway.issues == []


# -- /crew stop, status, changes, standup, help ------------------------------------------------


@pytest.mark.parametrize(("user", "login"), [("U1", None), ("U1", "reader")])
def test_stop_needs_a_linked_writer(user, login, world, engine, slack):
    run_id = waiting_run(engine, RunState.CODING)
    if login:
        link(engine, user, login)
    crew(world, f"stop {run_id}", user=user)
    assert get_run(engine, run_id).state == "coding"
    assert slack.told(user)


def test_a_writer_stops_a_run_and_the_channel_hears_it(world, engine, slack):
    link(engine, "U1", "maintainer")
    run_id = waiting_run(engine, RunState.CODING)
    crew(world, f"stop {run_id}")
    crew(world, f"stop {run_id}", trigger="t2")
    run = get_run(engine, run_id)
    assert run.state == "stopped" and run.reason == "stopped in Slack by maintainer"
    (said,) = rows(engine, SlackMessage)
    assert (said.channel, said.thread_key, said.text) == (
        CHANNEL,
        None,
        f"Run {run_id} stopped by <@U1>.",
    )
    assert "has ended already" in slack.told("U1")


def test_the_stop_button_stops_the_run_and_takes_the_buttons_away(world, engine, slack):
    link(engine, "U1", "writer")
    run_id = waiting_run(engine)
    text, blocks = awaiting_human(run_id, "https://github.com/o/r/pull/7", Tally(5, 5))
    key, thread = f"run:{run_id}:decision", f"run:{run_id}"
    enqueue_message(
        engine, channel="#crew", key=key, text=text, role="lead", blocks=blocks, thread_key=thread
    )
    click(world, STOP, run_id)

    assert get_run(engine, run_id).state == "stopped"
    edited, said = rows(engine, SlackMessage)
    assert edited.revision == 2 and "stopped by <@U1>" in edited.text
    assert [b["type"] for b in json.loads(edited.blocks or "[]")] == ["section", "context"]
    assert (said.channel, said.thread_key) == ("#crew", f"run:{run_id}")


def test_status_lists_active_runs_and_one_runs_steps(world, engine, slack):
    link(engine, "U1", "reader")
    run_id = waiting_run(engine)
    crew(world, "status")
    crew(world, f"status {run_id}", trigger="t2")
    crew(world, "status 999", trigger="t3")
    told = slack.told("U1")
    assert f"Run {run_id} · `awaiting_human` · {REPO}#5 · Validate ages" in told
    assert "Finished steps: nothing yet." in told and "There is no run `999`" in told


def test_changes_by_command_sends_a_waiting_run_back_to_the_coder(world, engine, slack):
    link(engine, "U1", "writer")
    run_id = waiting_run(engine)
    crew(world, f"changes {run_id} Accept +42 too")
    assert get_run(engine, run_id).state == "fixing"
    ((key, content),) = outputs(engine, run_id).items()
    assert key.startswith("human-slack-") and content["body"] == "Accept +42 too"
    assert content["reviewer"] == "writer" and jobs(engine, CREW_RUN_JOB) == 1


def test_a_standup_now_is_held_once_per_channel_and_day(world, engine, slack):
    crew(world, "standup")
    assert "/crew link" in slack.told("U1")
    link(engine, "U1", "reader")
    crew(world, "standup", trigger="t2")
    crew(world, "standup", trigger="t3")

    posts = [m for m in rows(engine, SlackMessage) if m.thread_key.startswith("standup:C1:")]
    assert posts and posts[0].parent and posts[0].channel == CHANNEL
    assert "posted already" in slack.told("U1")


def test_a_standup_in_the_crews_channel_is_the_scheduled_one(world, engine):
    link(engine, "U1", "reader")
    body = {"team_id": TEAM, "channel_id": "C0002", "channel_name": "crew", "user_id": "U1"}
    world("command", {**body, "command": "/crew", "text": "standup", "trigger_id": "t"}, "/crew")
    assert {m.channel for m in rows(engine, SlackMessage)} == {"#crew"}


def test_standup_schedule_is_set_or_explained(world, engine, slack):
    link(engine, "U1", "reader")
    crew(world, 'standup schedule "30 8 * * 1-5" Europe/Berlin')
    crew(world, 'standup schedule "0 9 * *" Europe/Berlin', trigger="t2")
    crew(world, "standup schedule '0 9 * * *' Mars/Olympus", trigger="t3")
    crew(world, 'standup schedule "0 9', trigger="t4")

    (schedule,) = rows(engine, StandupSchedule)
    assert (schedule.channel, schedule.cron, schedule.timezone) == (
        CHANNEL,
        "30 8 * * 1-5",
        "Europe/Berlin",
    )
    told = slack.told("U1")
    assert "five fields" in told and "'Mars/Olympus' is not a time zone" in told
    assert 'Usage: `/crew standup schedule "<cron>" <Zone>`' in told
    (said,) = rows(engine, SlackMessage)
    assert "set this channel's standup to `30 8 * * 1-5` (Europe/Berlin)" in said.text


def test_metrics_are_posted_in_the_channel(world, engine, slack):
    link(engine, "U1", "reader")
    waiting_run(engine)
    crew(world, "metrics 30")
    crew(world, "metrics lots", trigger="t2")
    (said,) = rows(engine, SlackMessage)
    assert said.channel == CHANNEL and json.loads(said.blocks or "[]")
    assert "Usage: `/crew metrics [days]`" in slack.told("U1")


def test_unknown_words_get_the_help(world, slack):
    crew(world, "deploy prod")
    assert "I don't know `/crew deploy`" in slack.told("U1") and "/crew task" in slack.told("U1")


def test_a_failing_ephemeral_is_logged_not_raised(world, slack, caplog):
    slack.refuse = "channel_not_found"
    assert crew(world, "help") == 1
    assert "could not answer U1 in C1: channel_not_found" in caplog.text


# -- the decision buttons ---------------------------------------------------------------------


def test_approve_records_the_human_and_comments_on_the_pull_request(world, engine, gateway, slack):
    link(engine, "U1", "writer")
    run_id = waiting_run(engine)
    click(world, APPROVE, run_id)
    click(world, APPROVE, run_id)

    assert get_run(engine, run_id).state == "awaiting_human"  # merging stays on GitHub
    ((key, content),) = outputs(engine, run_id).items()
    assert key == "human-approve-1" and content["reviewer"] == "writer"
    assert content["slack_user"] == "U1"
    assert gateway.comments == [
        (7, "Approved in Slack by @writer. Merging stays with a human, here on GitHub.", "lead")
    ]
    assert "recorded already" in slack.told("U1")
    (said,) = rows(engine, SlackMessage)
    assert said.thread_key == f"run:{run_id}" and "<@U1> approves" in said.text


def test_request_changes_opens_a_form_whose_submission_sends_the_run_to_fixing(
    world, engine, slack
):
    link(engine, "U1", "writer")
    run_id = waiting_run(engine)
    click(world, REQUEST_CHANGES, run_id)
    ((trigger, view),) = slack.views
    assert trigger == f"click-{REQUEST_CHANGES}-U1" and view["callback_id"] == REQUEST_CHANGES

    submitted = {
        **view,
        "id": "V0001",
        "state": {"values": {"feedback": {"text": {"type": "x", "value": "Accept +42"}}}},
    }
    body = {"type": "view_submission", "user": {"id": "U1", "team_id": TEAM}, "view": submitted}
    world("view_submission", body)
    world("view_submission", body)  # a retried job records it once

    assert get_run(engine, run_id).state == "fixing"
    assert outputs(engine, run_id) == {
        "human-V0001": {"reviewer": "writer", "body": "Accept +42", "slack_user": "U1"}
    }
    assert jobs(engine, CREW_RUN_JOB) == 1
    assert "not waiting for you" in slack.told("U1")


def test_an_expired_trigger_points_to_the_command(world, engine, slack):
    link(engine, "U1", "writer")
    run_id = waiting_run(engine)
    slack.refuse_views = "expired_trigger_id"
    click(world, REQUEST_CHANGES, run_id)
    assert f"Type `/crew changes {run_id} <what to change>` instead" in slack.told("U1")
    assert get_run(engine, run_id).state == "awaiting_human"


@pytest.mark.parametrize(("login", "expected"), [(None, "/crew link"), ("reader", "`read`")])
def test_buttons_refuse_unlinked_users_and_readers(login, expected, world, engine, gateway, slack):
    run_id = waiting_run(engine)
    if login:
        link(engine, "U9", login)
    for action in (APPROVE, REQUEST_CHANGES, STOP):
        click(world, action, run_id, user="U9")
    assert get_run(engine, run_id).state == "awaiting_human"
    assert outputs(engine, run_id) == {} and slack.views == [] and gateway.comments == []
    assert slack.told("U9").count(expected) == 3


# -- message events -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "recorded"),
    [
        ({"user": "U1", "ts": "2.0", "thread_ts": "1.0", "text": "did X"}, True),
        ({"user": "U1", "ts": "2.0", "thread_ts": "1.5", "text": "another thread"}, False),
        ({"user": "U1", "ts": "2.0", "text": "top level"}, False),
        ({"bot_id": "B1", "user": "U2", "ts": "2.0", "thread_ts": "1.0", "text": "me"}, False),
        ({"subtype": "bot_message", "ts": "2.0", "thread_ts": "1.0", "text": "me"}, False),
        ({"subtype": "message_changed", "ts": "2.0", "thread_ts": "1.0"}, False),
    ],
)
def test_human_replies_in_a_standup_thread_are_kept_and_bots_never(
    event, recorded, engine, settings
):
    with Session(engine) as session:
        for ts, key in (("1.0", "standup:#crew:2026-01-05"), ("1.5", "run:3")):
            session.add(
                SlackMessage(
                    key=f"{key}:open",
                    channel="#crew",
                    channel_id="C1",
                    thread_key=key,
                    parent=True,
                    text="opening",
                    status="sent",
                    ts=ts,
                )
            )
        session.commit()
    body = {"type": "event_callback", "event": {"type": "message", "channel": "C1", **event}}
    services = fake_services(engine, settings)
    slack_messages.message_posted(body, services)
    slack_messages.message_posted(body, services)  # a redelivered event is kept once

    updates = [(u.channel, u.day, u.slack_user_id, u.text) for u in rows(engine, HumanUpdate)]
    assert updates == ([("#crew", "2026-01-05", "U1", "did X")] if recorded else [])


def test_the_task_reply_links_to_the_configured_github_enterprise_host(world, engine, settings):
    settings.github_api_url = "https://ghe.example.com/api/v3"  # this test's own settings
    link(engine, "U1", "writer")
    crew(world, "task octo-org/hello Add validation")
    (reply,) = rows(engine, SlackMessage)
    assert "<https://ghe.example.com/octo-org/hello/issues/41|" in reply.text
