"""Sprints steered from Slack, end to end: signed `/crew sprint` commands and clicks from the
Slack emulator, the lead's plan made through the anthropic SDK against its emulator, the
tracking issue and its notes read back with PyGithub; and `/crew sprint close` on GitHub.
Every click is delivered twice, as Slack may: nothing happens twice."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import github
import pytest
from sqlalchemy import select

from bot.sandbox import sandbox_status
from bot.slack.sprint_blocks import SPRINT_APPROVE, SPRINT_CANCEL, SPRINT_EDIT
from bot.store.sprint_models import Sprint, SprintTask
from bot.store.sprints import transitions
from emulators.anthropic import Script, Turn
from emulators.slack.shapes import view_json
from emulators.slack.state import User
from tests.support import sprint_script as scripted
from tests.support.identity import prove_link
from tests.support.world import REPO, World, emulated_world

pytestmark = pytest.mark.skipif(
    not sandbox_status().available, reason=f"no sandbox: {sandbox_status().reason}"
)
HUMAN, STRANGER = "U0001", "U0003"
EDITED_GOAL = "Deliver only the first two greeting modules, side by side"


@pytest.fixture
def world(tmp_path) -> Iterator[World]:
    with emulated_world(f"sqlite:///{tmp_path / 'repocrew.db'}", tmp_path / "work") as world:
        stranger = world.chat.workspace.add_user(User(STRANGER, "T0001", "bob", "Bob Stranger"))
        world.chat.join("#crew", stranger.id)
        edited = scripted.plan_of({"A": [], "B": []})
        lead = {"system": EDITED_GOAL, "first_user": "[step: sprint-", "turn": 0}
        turns = list(scripted.sprint_script().turns)
        world.model.script = Script(
            [Turn.tool_use("submit_sprint_plan", edited, match=lead), *turns], reuse=True
        )
        yield world


def wait_until(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _rows(world: World, model: Any) -> list[Any]:
    with world.engine.connect() as connection:
        return list(connection.execute(select(model.__table__).order_by(model.id)).all())


def _sprint(world: World) -> Any:
    sprints = _rows(world, Sprint)
    return sprints[0] if sprints else None


def _in(world: World, state: str) -> Any:
    sprint = _sprint(world)
    return sprint if sprint is not None and sprint.state == state else None


def told(world: World, user: str) -> str:
    return "\n".join(e.text for e in world.chat.workspace.ephemerals if e.user == user)


def plans(world: World) -> list[Any]:
    """The sprint plan messages in #crew (Slack's copy, with their blocks)."""
    channel = world.chat.channel("#crew").id
    found = world.chat.workspace.messages.get(channel, {}).values()
    return [m for m in found if m.text.startswith("Sprint ") and " plan: " in m.text]


def _texts(world: World) -> str:
    return "\n".join(post.text for post in world.chat.channel_transcript("#crew").posts)


def buttons(message: Any) -> list[str]:
    actions = [b for b in message.blocks or [] if b.get("type") == "actions"]
    return [e["action_id"] for a in actions for e in a["elements"]]


def comments(issue) -> list[str]:
    return [c.body for c in issue.get_comments()]


def click_twice(world: World, action_id: str, value: str, ts: str) -> None:
    """A click, and the same request delivered again (Slack's retry, a proxy's replay)."""
    response = world.chat.click(action_id, value, message_ts=ts)
    assert response.status_code == 200
    world.chat.deliver(world.chat.deliveries[-1])


def settle(world: World) -> None:
    """Let the worker run what is queued (no state to wait for: nothing should change)."""
    world.hub.webhooks.wait_idle(10)
    time.sleep(1.5)


def start_from_slack(world: World, goal: str, *, days: int = 3) -> tuple[Any, Any]:
    prove_link(world, "octocat")
    response = world.chat.send_command(f"sprint {REPO} {goal} --days {days}")
    assert response.status_code == 200
    sprint = wait_until(lambda: _in(world, "awaiting_approval"), "the plan")
    plan = wait_until(lambda: [m for m in plans(world) if buttons(m)], "the plan in Slack")[0]
    return sprint, plan


def test_a_sprint_from_slack_is_planned_edited_approved_and_closed(world):
    sprint, plan = start_from_slack(world, scripted.GOAL)
    repo = world.human.get_repo(REPO)
    tracking = repo.get_issue(sprint.tracking_issue)
    assert tracking.user.login == "repocrew[bot]" and scripted.GOAL in tracking.body
    assert "requested by @octocat from Slack" in tracking.body and sprint.days == 3
    assert buttons(plan) == [SPRINT_APPROVE, SPRINT_EDIT, SPRINT_CANCEL]
    assert "*C* Add the gamma greeting module (coder) ← A, B" in str(plan.blocks)
    assert len(list(repo.get_issues(state="all"))) == 1  # the tracking issue, once

    # A stranger (not linked) clicks approve: refused, nothing moves.
    crew = world.chat.channel("#crew")
    world.chat.send_interaction(
        {
            "type": "block_actions",
            "user": {"id": STRANGER, "team_id": "T0001"},
            "channel": {"id": crew.id, "name": crew.name},
            "container": {"type": "message", "message_ts": plan.ts, "channel_id": crew.id},
            "actions": [{"action_id": SPRINT_APPROVE, "value": str(sprint.id), "type": "button"}],
        }
    )
    wait_until(lambda: "/crew link" in told(world, STRANGER), "the stranger's refusal")
    assert _sprint(world).state == "awaiting_approval"

    # Edit: the form opens with the goal; its submission (twice) has the lead plan again.
    world.chat.click(SPRINT_EDIT, str(sprint.id), message_ts=plan.ts)
    view = wait_until(lambda: list(world.chat.workspace.views.values()), "the form")[0]
    submitted = view_json(view)
    assert scripted.GOAL in str(submitted["blocks"])
    submitted["state"] = {
        "values": {
            "goal": {"text": {"type": "plain_text_input", "value": EDITED_GOAL}},
            "notes": {"text": {"type": "plain_text_input", "value": "Leave gamma for later."}},
        }
    }
    for _ in range(2):
        response = world.chat.send_interaction({"type": "view_submission", "view": submitted})
        assert response.status_code == 200
    wait_until(
        lambda: (
            [t.key for t in _rows(world, SprintTask)] == ["A", "B"]
            and _in(world, "awaiting_approval")
        ),
        "the new plan",
    )
    replanned = _sprint(world)
    assert replanned.goal.startswith(EDITED_GOAL) and "Leave gamma for later." in replanned.goal
    moves = [(t.from_state, t.to_state) for t in transitions(world.engine, sprint.id)]
    assert moves.count(("awaiting_approval", "planning")) == 1
    plan_comments = [b for b in comments(tracking) if "Sprint plan" in b]
    assert len(plan_comments) == 1 and "| C |" not in plan_comments[0]  # edited in place
    assert sum("edited the sprint's goal" in b for b in comments(tracking)) == 1
    (plan,) = wait_until(
        lambda: [m for m in plans(world) if buttons(m) and EDITED_GOAL in m.text] or None,
        "the new plan in Slack",
    )
    assert len(plans(world)) == 1  # the same message, edited

    # Approve, delivered twice: running once, one note on the tracking issue, buttons gone.
    click_twice(world, SPRINT_APPROVE, str(sprint.id), plan.ts)
    wait_until(lambda: _in(world, "running"), "the approval")
    wait_until(lambda: not buttons(plans(world)[0]), "the settled plan")
    settle(world)
    assert "Approved by <@U0001>" in str(plans(world)[0].blocks)
    assert sum("approved by @octocat in Slack" in b for b in comments(tracking)) == 1
    moves = [(t.from_state, t.to_state) for t in transitions(world.engine, sprint.id)]
    assert moves.count(("awaiting_approval", "running")) == 1

    # `/crew sprint close` from Slack: the running sprint goes to its review, once.
    response = world.chat.send_command(f"sprint close {sprint.id}")
    assert response.status_code == 200
    world.chat.deliver(world.chat.deliveries[-1])
    wait_until(lambda: _in(world, "reviewing"), "the close")
    settle(world)
    assert sum("closed by @octocat" in b for b in comments(tracking)) == 1
    moves = [(t.from_state, t.to_state) for t in transitions(world.engine, sprint.id)]
    assert moves.count(("running", "reviewing")) == 1
    said = f"<@{HUMAN}> closed sprint {sprint.id}"
    wait_until(lambda: said in _texts(world), "the close said in Slack")
    settle(world)
    assert _texts(world).count(said) == 1


def test_a_cancelled_sprint_starts_nothing_and_cannot_be_approved(world):
    sprint, plan = start_from_slack(world, scripted.GOAL)
    click_twice(world, SPRINT_CANCEL, str(sprint.id), plan.ts)
    wait_until(lambda: _in(world, "cancelled"), "the cancellation")
    wait_until(lambda: not buttons(plans(world)[0]), "the settled plan")
    world.chat.click(SPRINT_APPROVE, str(sprint.id), message_ts=plan.ts)  # an old client's click
    wait_until(lambda: "nothing to approve" in told(world, HUMAN), "the refusal")
    settle(world)
    repo = world.human.get_repo(REPO)
    tracking = repo.get_issue(sprint.tracking_issue)
    assert sum("cancelled by @octocat in Slack" in b for b in comments(tracking)) == 1
    assert "Cancelled by <@U0001>" in str(plans(world)[0].blocks)
    assert _sprint(world).state == "cancelled" and world.runs() == []
    assert len(list(repo.get_issues(state="all"))) == 1  # no task issue was opened


def test_crew_sprint_close_on_github_sends_a_running_sprint_to_review(world):
    repo = world.human.get_repo(REPO)
    tracking = repo.create_issue("Sprint: greetings", body=scripted.GOAL)
    tracking.create_comment("/crew sprint")
    wait_until(lambda: _in(world, "awaiting_approval"), "the plan")
    tracking.create_comment("/crew sprint close")  # not running yet: nothing to close
    wait_until(
        lambda: any("only a running one closes" in b for b in comments(tracking)), "the refusal"
    )
    tracking.create_comment("/crew go")
    # the plan's Slack message is settled by a go on GitHub too
    wait_until(lambda: plans(world) and not buttons(plans(world)[0]), "the settled plan")
    wait_until(lambda: _in(world, "running"), "the approval")

    reader = github.Github(base_url=world.hub_url, auth=github.Auth.Token("ghp_reader"))
    reader.get_repo(REPO).get_issue(tracking.number).create_comment("/crew sprint close")
    settle(world)
    assert _sprint(world).state == "running"
    tracking.create_comment("/crew sprint close")
    wait_until(lambda: _in(world, "reviewing"), "the close")
    closed = "Sprint 1 closed by @octocat: its review follows."
    wait_until(lambda: any(closed in b for b in comments(tracking)), "the reply", timeout=120)
    assert _sprint(world).reason == "closed by octocat"
    reader.close()
