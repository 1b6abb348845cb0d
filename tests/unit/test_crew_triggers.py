"""Who may start and steer a run from GitHub, with a fake repository gateway (our own port)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import bot.triggers.registry  # noqa: F401  (registers the handlers)
from bot.ports.forge import Comment
from bot.runs.progress import create_run
from bot.runs.states import RunState
from bot.services import Services
from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from bot.store.models import Job, Run
from bot.store.queue import WORKERS_LIMIT
from bot.store.runs import get_run, outputs
from bot.triggers.commands import Command, parse_command
from bot.triggers.github_deliveries import router
from tests.conftest import make_settings
from tests.support.services import fake_services

REPO = "octo-org/hello"
COMMENT_IDS = itertools.count(99)


class FakeGateway:
    """Permissions by login, a repo config file, and every comment it was asked to post."""

    def __init__(self, permissions: dict[str, str], repo_config: str | None = None) -> None:
        self.permissions = permissions
        self.repo_config = repo_config
        self.comments: list[tuple[int, str]] = []

    def permission_of(self, login: str) -> str:
        return self.permissions.get(login, "none")

    def read_text(self, path: str) -> str | None:
        return self.repo_config if path == ".repocrew.toml" else None

    def is_own(self, author: str) -> bool:
        return author == "repocrew[bot]"

    def list_comments(self, thread: int) -> list[Comment]:
        return [
            Comment(i, body, "repocrew[bot]")
            for i, (t, body) in enumerate(self.comments)
            if t == thread
        ]

    def create_comment(self, thread: int, body: str, *, role: str) -> None:
        self.comments.append((thread, body))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Any]:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway({"maintainer": "admin", "writer": "write", "reader": "read"})


@pytest.fixture
def settings(tmp_path: Path):
    return make_settings(f"sqlite:///{tmp_path / 'store.db'}", crew_file=tmp_path / "none.toml")


def user(login: str, kind: str = "User") -> dict[str, Any]:
    return {"login": login, "id": 7, "type": kind}


def issue_event(action: str, sender: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "action": action,
        "issue": {"number": 12, "title": "Add input validation", "body": "Please."},
        "repository": {"full_name": REPO, "clone_url": "https://github.com/octo-org/hello.git"},
        "installation": {"id": 1},
        "sender": sender,
        **extra,
    }


def comment(body: str, sender: dict[str, Any], *, on_pull: bool = False) -> dict[str, Any]:
    # Each comment has its own id, as on GitHub: replies are made once per comment id.
    event = issue_event("created", sender, comment={"body": body, "id": next(COMMENT_IDS)})
    if on_pull:
        event["issue"]["pull_request"] = {"url": "…"}
    return event


def runs(engine) -> list[Run]:
    with engine.connect() as connection:
        return list(connection.execute(Run.__table__.select()).all())


def jobs(engine) -> int:
    with engine.connect() as connection:
        return len(connection.execute(Job.__table__.select()).all())


def attempts_allowed(engine) -> list[int]:
    """Each queued job's max attempts, in the order they were queued."""
    with engine.connect() as connection:
        return list(connection.execute(select(Job.max_attempts).order_by(Job.id)).scalars())


@pytest.fixture
def services(engine, settings, gateway) -> Services:
    return fake_services(engine, settings, gateway=gateway)


def dispatch(event: str, payload: dict[str, Any], services: Services) -> None:
    router.dispatch(event, json.loads(json.dumps(payload)), services)


def test_the_trigger_label_by_a_writer_starts_one_run(engine, gateway, services):
    event = issue_event("labeled", user("writer"), label={"name": "crew"})
    dispatch("issues", event, services)
    dispatch("issues", event, services)  # redelivered

    (run,) = runs(engine)
    assert (run.repo, run.issue_number, run.state, run.forge) == (REPO, 12, "queued", "github")
    assert run.requested_by == "writer <7+writer@users.noreply.github.com>"
    assert jobs(engine) == 1 and gateway.comments == []


def test_other_labels_do_nothing(engine, gateway, services):
    dispatch("issues", issue_event("labeled", user("writer"), label={"name": "bug"}), services)
    assert runs(engine) == [] and gateway.comments == []


@pytest.mark.parametrize("login", ["reader", "stranger"])
def test_people_without_write_access_get_a_polite_reply_and_nothing_runs(
    login, engine, settings, gateway, services
):
    dispatch("issue_comment", comment("/crew go", user(login)), services)
    dispatch("issues", issue_event("labeled", user(login), label={"name": "crew"}), services)

    assert runs(engine) == [] and jobs(engine) == 0
    assert len(gateway.comments) == 2
    assert all("only people with write access" in body for _, body in gateway.comments)


@pytest.mark.parametrize(
    "sender",
    [user("repocrew[bot]", "Bot"), user("maintainer[bot]", "User"), user("dependabot", "Bot")],
)
def test_bots_never_steer_and_get_no_reply(sender, engine, settings, gateway, services):
    gateway.permissions[sender["login"]] = "admin"  # even with write access
    dispatch("issue_comment", comment("/crew go", sender), services)
    dispatch("issues", issue_event("labeled", sender, label={"name": "crew"}), services)
    assert runs(engine) == [] and gateway.comments == []


def test_help_and_unknown_commands_answer_with_the_command_list(
    engine, settings, gateway, services
):
    dispatch("issue_comment", comment("/crew help", user("writer")), services)
    dispatch("issue_comment", comment("/crew dance", user("writer")), services)
    assert "`/crew plan`" in gateway.comments[0][1]
    assert gateway.comments[1][1].startswith("I don't know `/crew dance`")
    assert runs(engine) == []


def test_a_comment_handled_twice_is_answered_once(engine, gateway, services):
    """At-least-once jobs: a worker killed after replying does the job again."""
    asked = comment("/crew status", user("writer"))
    dispatch("issue_comment", asked, services)
    dispatch("issue_comment", asked, services)
    ((_, body),) = gateway.comments
    assert body.startswith("No run is active here.")
    dispatch("issue_comment", comment("/crew status", user("writer")), services)
    assert len(gateway.comments) == 2  # a new comment gets its own answer


def test_plan_then_go_continues_the_same_run(engine, gateway, services):
    dispatch("issue_comment", comment("/crew plan", user("writer")), services)
    (run,) = runs(engine)
    assert run.mode == "plan"
    with engine.begin() as connection:  # as the planner and researcher would leave it
        connection.execute(
            Run.__table__.update().values(state=RunState.AWAITING_HUMAN).where(Run.id == run.id)
        )

    dispatch("issue_comment", comment("/crew go", user("maintainer")), services)

    after = get_run(engine, run.id)
    assert (after.state, after.mode) == ("coding", "full") and len(runs(engine)) == 1
    # the plan's job and the go's: the claiming worker's REPOCREW_JOB_MAX_ATTEMPTS applies
    assert attempts_allowed(engine) == [WORKERS_LIMIT, WORKERS_LIMIT]


def test_stop_and_status(engine, gateway, services):
    dispatch("issues", issue_event("labeled", user("writer"), label={"name": "crew"}), services)
    dispatch("issue_comment", comment("/crew status", user("writer")), services)
    dispatch("issue_comment", comment("/crew stop", user("writer")), services)
    (run,) = runs(engine)
    assert get_run(engine, run.id).state == "stopped"
    assert "is `queued`" in gateway.comments[0][1] and "stopped" in gateway.comments[1][1]


def test_review_works_on_pull_requests_only(engine, gateway, services):
    dispatch("issue_comment", comment("/crew review", user("writer")), services)
    dispatch("issue_comment", comment("/crew review", user("writer"), on_pull=True), services)
    (run,) = runs(engine)
    assert (run.mode, run.pr_number, run.issue_number) == ("review", 12, None)
    assert "works on pull requests" in gateway.comments[0][1]


def test_an_invalid_repo_config_stops_the_start_with_the_key_and_line(
    engine, settings, gateway, services
):
    gateway.repo_config = "[budgets]\nrun_usd = -1\n"
    dispatch("issue_comment", comment("/crew go", user("writer")), services)
    assert runs(engine) == []
    assert ".repocrew.toml:2: budgets.run_usd" in gateway.comments[0][1]


def test_a_humans_changes_requested_sends_the_coder_back(engine, gateway, services):
    run_id = create_run(engine, repo=REPO, task="t", forge="github", pr_number=5)
    with engine.begin() as connection:
        connection.execute(
            Run.__table__.update().values(state=RunState.AWAITING_HUMAN).where(Run.id == run_id)
        )
    review = {
        "action": "submitted",
        "review": {"id": 321, "state": "changes_requested", "body": "Handle None too."},
        "pull_request": {"number": 5},
        "repository": {"full_name": REPO},
        "installation": {"id": 1},
        "sender": user("maintainer"),
    }
    dispatch("pull_request_review", review, services)
    dispatch("pull_request_review", review, services)  # redelivered

    assert get_run(engine, run_id).state == "fixing"
    assert outputs(engine, run_id) == {
        "human-321": {"reviewer": "maintainer", "body": "Handle None too."}
    }
    assert attempts_allowed(engine) == [WORKERS_LIMIT]  # the worker's REPOCREW_JOB_MAX_ATTEMPTS


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/crew go", Command("go", "go")),
        ("Thanks!\n/crew   PLAN  now please", Command("plan", "plan", "now please")),
        ("/crew", Command("help", "help")),
        ("/crew frobnicate", Command("unknown", "frobnicate")),
        ("> /crew go", None),
        ("```\n/crew go\n```", None),
        ("    /crew go", None),
        ("please /crew go", None),
        ("", None),
    ],
)
def test_the_command_grammar(body, expected):
    assert parse_command(body) == expected


def test_ci_results_on_a_crew_pull_request_are_kept_as_evidence(
    engine, settings, gateway, services
):
    run_id = create_run(engine, repo=REPO, task="t", forge="github", pr_number=5)
    other = create_run(engine, repo=REPO, task="t", forge="github", pr_number=6)

    def check(name: str, check_id: int, conclusion: str) -> dict[str, Any]:
        return {
            "action": "completed",
            "check_run": {
                "id": check_id,
                "name": name,
                "conclusion": conclusion,
                "head_sha": "abc",
                "pull_requests": [{"number": 5}],
            },
            "repository": {"full_name": REPO},
            "installation": {"id": 1},
            "sender": user("github-actions[bot]", "Bot"),
        }

    dispatch("check_run", check("CI / pytest", 70, "failure"), services)
    dispatch("check_run", check("CI / pytest", 70, "failure"), services)  # redelivered
    dispatch("check_run", check("repocrew / tests", 71, "success"), services)  # ours

    assert outputs(engine, run_id) == {
        "ci-70": {"name": "CI / pytest", "conclusion": "failure", "head_sha": "abc", "url": ""}
    }
    assert outputs(engine, other) == {}


def test_a_label_on_a_repo_with_broken_config_replies_once_and_starts_nothing(
    engine, settings, gateway, services
):
    gateway.repo_config = "trigger_label = 12\n"
    dispatch("issues", issue_event("labeled", user("writer"), label={"name": "bug"}), services)
    dispatch("issues", issue_event("labeled", user("writer"), label={"name": "crew"}), services)
    assert runs(engine) == []
    ((thread, body),) = gateway.comments
    assert thread == 12 and ".repocrew.toml:1: trigger_label" in body
