"""Assignment as a trigger, with a fake repository gateway: who is the crew's bot user, who
may assign, one run whatever arrives twice, and what unassigning does before and after the PR."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from bot.roster.loader import ConfigError, load_crew, roster_text
from bot.runs.progress import create_run_if_idle
from bot.store.models import Run
from bot.store.runs import get_run
from tests.conftest import make_settings
from tests.support.services import fake_services
from tests.unit.test_crew_triggers import (
    REPO,
    FakeGateway,
    dispatch,
    issue_event,
    jobs,
    runs,
    user,
)

APP_BOT = {"login": "repocrew[bot]", "id": 9, "type": "Bot"}
CODER_BOT = {"login": "crew-coder[bot]", "id": 10, "type": "Bot"}


class AssigningGateway(FakeGateway):
    """The fake gateway, knowing the bot users of the crew's App and the coder's own App."""

    def bot_login(self, identity: Any = None) -> str:
        # The coder's own App (app 10) shows as `crew-coder[bot]`.
        if identity is None:
            return "repocrew[bot]"
        assert identity.app_id == 10
        return "crew-coder[bot]"


def coder_app_crew(tmp_path: Path, extra: str = "") -> Path:
    """The default roster with an App of the coder's own (app 10, `crew-coder[bot]`)."""
    text = roster_text("default").replace(
        "[roles.coder.github]\n", '[roles.coder.github]\napp_id = 10\nprivate_key_path = "c.pem"\n'
    )
    path = tmp_path / "crew.toml"
    path.write_text(extra + text)
    return path


@pytest.fixture
def gateway() -> AssigningGateway:
    return AssigningGateway({"maintainer": "admin", "writer": "write", "triager": "triage"})


@pytest.fixture
def services(engine, settings, gateway):
    return fake_services(engine, settings, gateway=gateway)


def assigned(sender: str, assignee: dict[str, Any], *, action: str = "assigned", still=()):
    event = issue_event(action, user(sender), assignee=assignee)
    event["issue"]["assignees"] = list(still) + ([assignee] if action == "assigned" else [])
    return event


def test_assigning_the_apps_bot_starts_one_run_whatever_arrives_twice(engine, gateway, services):
    dispatch("issues", assigned("writer", APP_BOT), services)
    dispatch("issues", assigned("writer", APP_BOT), services)  # handled again
    dispatch("issues", issue_event("labeled", user("writer"), label={"name": "crew"}), services)

    (run,) = runs(engine)
    assert (run.repo, run.issue_number, run.state) == (REPO, 12, "queued")
    assert run.requested_by.startswith("writer <")
    assert jobs(engine) == 1 and gateway.comments == []


def test_the_label_first_then_the_assignment_still_one_run(engine, gateway, services):
    dispatch("issues", issue_event("labeled", user("writer"), label={"name": "crew"}), services)
    dispatch("issues", assigned("maintainer", APP_BOT), services)
    assert len(runs(engine)) == 1 and jobs(engine) == 1


def test_other_assignees_start_nothing(engine, gateway, services):
    dispatch("issues", assigned("writer", user("writer")), services)
    dispatch("issues", assigned("writer", {"login": "dependabot[bot]", "type": "Bot"}), services)
    assert runs(engine) == [] and gateway.comments == []


@pytest.mark.parametrize("login", ["triager", "stranger"])
def test_an_assigner_without_write_access_gets_the_usual_refusal(login, engine, gateway, services):
    dispatch("issues", assigned(login, APP_BOT), services)
    assert runs(engine) == []
    ((thread, body),) = gateway.comments
    assert thread == 12 and "only people with write access" in body


def test_a_bot_that_assigns_is_never_obeyed_nor_answered(engine, gateway, services):
    gateway.permissions["helper[bot]"] = "admin"
    dispatch(
        "issues", issue_event("assigned", user("helper[bot]", "Bot"), assignee=APP_BOT), services
    )
    assert runs(engine) == [] and gateway.comments == []


def test_unassigning_before_the_pull_request_stops_the_run(engine, gateway, services):
    dispatch("issues", assigned("writer", APP_BOT), services)
    dispatch("issues", assigned("maintainer", APP_BOT, action="unassigned"), services)
    (run,) = runs(engine)
    assert (run.state, run.reason) == ("stopped", "unassigned by maintainer")
    assert gateway.comments == [
        (12, f"Run {run.id} stopped: @maintainer took the crew off this issue.")
    ]
    dispatch("issues", assigned("maintainer", APP_BOT, action="unassigned"), services)  # again
    assert len(gateway.comments) == 1


def test_unassigning_after_the_pull_request_lets_the_run_finish(engine, gateway, services):
    dispatch("issues", assigned("writer", APP_BOT), services)
    (run,) = runs(engine)
    with engine.begin() as connection:  # as the coder leaves it once its PR is open
        connection.execute(Run.__table__.update().values(pr_number=13, state="reviewing"))
    dispatch("issues", assigned("writer", APP_BOT, action="unassigned"), services)
    assert get_run(engine, run.id).state == "reviewing"
    ((_, body),) = gateway.comments
    assert body.startswith(f"Run {run.id} continues to its pull request #13")


def test_unassigning_by_someone_without_write_access_stops_nothing(engine, gateway, services):
    dispatch("issues", assigned("writer", APP_BOT), services)
    dispatch("issues", assigned("triager", APP_BOT, action="unassigned"), services)
    (run,) = runs(engine)
    assert run.state == "queued" and "only people with write access" in gateway.comments[0][1]


def test_a_role_with_its_own_app_is_a_trigger_and_keeps_the_run_while_assigned(
    engine, tmp_path, gateway
):
    settings = make_settings(
        f"sqlite:///{tmp_path / 'store.db'}", crew_file=coder_app_crew(tmp_path)
    )
    gateway = AssigningGateway({"writer": "write"})
    services = fake_services(engine, settings, gateway=gateway)
    dispatch("issues", assigned("writer", CODER_BOT, still=[APP_BOT]), services)
    assert len(runs(engine)) == 1
    # The App's bot taken off while the coder's stays: the crew is still on it.
    dispatch(
        "issues", assigned("writer", APP_BOT, action="unassigned", still=[CODER_BOT]), services
    )
    assert runs(engine)[0].state == "queued" and gateway.comments == []


def test_trigger_assignees_chooses_the_bots_and_refuses_a_role_without_an_app(tmp_path):
    crew = load_crew(coder_app_crew(tmp_path))
    assert crew.assignee_keys == ("app", "coder")
    only_coder = load_crew(coder_app_crew(tmp_path, 'trigger_assignees = ["coder"]\n'))
    assert only_coder.assignee_keys == ("coder",)
    assert load_crew(coder_app_crew(tmp_path, "trigger_assignees = []\n")).assignee_keys == ()
    with pytest.raises(ConfigError) as refused:
        load_crew(coder_app_crew(tmp_path, 'trigger_assignees = ["app", "planner"]\n'))
    assert "crew.toml:1: trigger_assignees[1]: 'planner' is neither" in str(refused.value)


def test_assignment_turned_off_starts_nothing(engine, tmp_path, gateway):
    crew_file = coder_app_crew(tmp_path, "trigger_assignees = []\n")
    settings = make_settings(f"sqlite:///{tmp_path / 'store.db'}", crew_file=crew_file)
    dispatch(
        "issues", assigned("writer", APP_BOT), fake_services(engine, settings, gateway=gateway)
    )
    assert runs(engine) == [] and gateway.comments == []


def test_a_broken_repo_config_is_reported_to_the_assigner_of_the_crew_only(
    engine, gateway, services
):
    gateway.repo_config = "trigger_label = 12\n"
    dispatch("issues", assigned("writer", user("writer")), services)
    dispatch("issues", assigned("writer", APP_BOT), services)
    assert runs(engine) == []
    ((_, body),) = gateway.comments
    assert ".repocrew.toml:1: trigger_label" in body


def test_starts_at_the_same_moment_make_one_run(engine):
    """Two workers, a label and an assignment: the look and the insert are one transaction."""
    barrier, made = threading.Barrier(8), []

    def start() -> None:
        barrier.wait()
        made.append(create_run_if_idle(engine, repo=REPO, task="t", issue_number=12))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len([run_id for run_id in made if run_id is not None]) == 1
    assert len(runs(engine)) == 1
    assert create_run_if_idle(engine, repo=REPO, task="t", issue_number=13) is not None
