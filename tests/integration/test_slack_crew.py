"""The crew steered from Slack, end to end: signed `/crew` commands and button clicks from the
Slack emulator reach repocrew's /slack/* endpoints; its worker opens the issue on the GitHub
emulator, runs the crew with the Anthropic emulator and answers through slack_sdk."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.sandbox import sandbox_status
from bot.slack.blocks import APPROVE, REQUEST_CHANGES, STOP
from bot.store.models import SlackLink
from bot.store.runs import outputs, transitions
from emulators.github.oauth import rename_user
from emulators.slack.shapes import view_json
from emulators.slack.state import User
from repocrew import demo_session
from tests.support.identity import USER_CODE, approve_device, prove_link, user_code_in
from tests.support.world import REPO, World, emulated_world

HUMAN, STRANGER = "U0001", "U0003"


def told(world: World, user: str) -> str:
    """Everything the Slack user was told privately (ephemeral messages)."""
    return "\n".join(e.text for e in world.chat.workspace.ephemerals if e.user == user)


def wait_until(check: Callable[[], Any], what: str, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def world(tmp_path) -> Iterator[World]:
    with emulated_world(f"sqlite:///{tmp_path / 'repocrew.db'}", tmp_path / "work") as world:
        stranger = world.chat.workspace.add_user(User(STRANGER, "T0001", "bob", "Bob Stranger"))
        world.chat.join("#crew", stranger.id)
        yield world


def command(world: World, text: str, user: str = HUMAN) -> None:
    response = world.chat.send_command(text, user=user)
    assert response.status_code == 200 and response.json()["response_type"] == "ephemeral"


def click(world: World, action_id: str, run_id: int, ts: str, user: str = HUMAN) -> None:
    if user == HUMAN:
        response = world.chat.click(action_id, str(run_id), message_ts=ts)
    else:  # the emulator's click is always its default human's; anyone else sends the payload
        crew = world.chat.channel("#crew")
        response = world.chat.send_interaction(
            {
                "type": "block_actions",
                "user": {"id": user, "team_id": "T0001"},
                "channel": {"id": crew.id, "name": crew.name},
                "container": {"type": "message", "message_ts": ts, "channel_id": crew.id},
                "actions": [{"action_id": action_id, "value": str(run_id), "type": "button"}],
            }
        )
    assert response.status_code == 200


def linked(world: World) -> list[tuple[str, int]]:
    with Session(world.engine) as session:
        return [
            (link.github_login, link.github_user_id) for link in session.exec(select(SlackLink))
        ]


def test_a_claimed_login_links_nothing_and_starts_nothing(world):
    """Red team: a Slack user with no GitHub access claims the admin's login. On the old main
    `/crew link octocat` linked at once and `/crew task` then opened an issue and started a run
    as octocat; now only what GitHub proves is linked."""
    command(world, "link octocat", user=STRANGER)
    code = user_code_in(wait_until(lambda: _with_code(world, STRANGER), "the device code"))
    approve_device(world.hub_url, "reader", code)  # all the stranger can approve: their own
    wait_until(lambda: "not @octocat" in told(world, STRANGER), "the refusal to link")
    assert linked(world) == []

    command(world, "task octo-org/ages Add input validation", user=STRANGER)
    wait_until(lambda: "I don't know who you are on GitHub" in told(world, STRANGER), "unlinked")
    human = world.human
    assert list(human.get_repo(REPO).get_issues(state="all")) == [] and world.runs() == []
    human.close()


def test_the_device_flow_links_the_account_github_names(world):
    command(world, "link", user=STRANGER)
    code = user_code_in(wait_until(lambda: _with_code(world, STRANGER), "the device code"))
    assert f"<{world.hub_url}/login/device>" in told(world, STRANGER)
    approve_device(world.hub_url, "reader", code)
    confirmed = "Linked: GitHub confirmed you are @reader."
    wait_until(lambda: confirmed in told(world, STRANGER), "the link")  # said once stored
    assert linked(world) == [("reader", world.hub.users["reader"].id)]

    # Linked, but a reader: the task is refused and GitHub is not touched.
    command(world, "task octo-org/ages Add input validation", user=STRANGER)
    wait_until(lambda: "`read`" in told(world, STRANGER), "the refusal")
    human = world.human
    assert list(human.get_repo(REPO).get_issues(state="all")) == [] and world.runs() == []
    human.close()


def test_a_renamed_account_is_checked_by_its_id_not_by_a_login_someone_took(world):
    """Red team: the linked reader renames their account and someone else takes the login
    `reader` with write access. Checking the stored login would let the Slack user steer as
    that other person; the check asks GitHub for the linked id's login now."""
    command(world, "link", user=STRANGER)
    code = user_code_in(wait_until(lambda: _with_code(world, STRANGER), "the device code"))
    approve_device(world.hub_url, "reader", code)
    wait_until(lambda: "you are @reader" in told(world, STRANGER), "the link")
    with world.hub.lock:
        rename_user(world.hub.users, list(world.hub.repos.values()), "reader", "reader-renamed")
        world.hub.add_user("reader")
        world.hub.repo(REPO).collaborators["reader"] = "write"

    command(world, "task octo-org/ages Add input validation", user=STRANGER)
    wait_until(lambda: "@reader-renamed has `read`" in told(world, STRANGER), "the refusal")
    human = world.human
    assert list(human.get_repo(REPO).get_issues(state="all")) == [] and world.runs() == []
    human.close()


def test_a_cancelled_code_links_nothing(world):
    command(world, "link", user=STRANGER)
    code = user_code_in(wait_until(lambda: _with_code(world, STRANGER), "the device code"))
    approve_device(world.hub_url, "octocat", code, authorize=False)
    wait_until(lambda: "You cancelled on GitHub" in told(world, STRANGER), "the cancellation")
    assert linked(world) == []


def _with_code(world: World, user: str) -> str | None:
    return next((t for t in told(world, user).splitlines() if USER_CODE.search(t)), None)


@pytest.mark.skipif(not sandbox_status().available, reason="the tester needs the sandbox")
def test_a_task_from_slack_runs_the_crew_and_the_buttons_steer_it(world):
    prove_link(world, "octocat")
    command(world, f"task {REPO} {demo_session.TASK_TITLE}. {demo_session.TASK_BODY}")

    run = wait_until(
        lambda: next((r for r in world.runs() if r.state in ("awaiting_human", "failed")), None),
        "the run to wait for a human",
    )
    assert run.state == "awaiting_human", run.reason
    human = world.human
    issue = human.get_repo(REPO).get_issue(run.issue_number)
    assert issue.title == demo_session.TASK_TITLE and issue.user.login == "repocrew[bot]"
    assert issue.body.endswith("Requested by @octocat from Slack.")

    # #crew: the reply to the command, and the run's thread with a reply per step.
    reply, thread = wait_until(lambda: _reply_and_thread(world), "the decision message")
    assert reply.persona == "Team Lead" and f"<@{HUMAN}> asked the crew for" in reply.text
    assert thread.persona == "Team Lead" and thread.text.startswith("Task:")
    speakers = [post.persona for post in thread.replies]
    assert speakers[:4] == ["Planner", "Researcher", "Coder", "Reviewer"]
    assert len(thread.replies) == 9
    decision = thread.replies[-1].ts

    # A stranger's Stop is refused; nothing changes.
    click(world, STOP, run.id, decision, user=STRANGER)
    wait_until(lambda: "/crew link" in told(world, STRANGER), "the stranger's refusal")
    assert world.runs()[0].state == "awaiting_human"

    # Approve: recorded, and said on the pull request; the run keeps waiting for the merge.
    click(world, APPROVE, run.id, decision)
    pull = human.get_repo(REPO).get_pull(run.pr_number)
    wait_until(
        lambda: any("Approved in Slack by @octocat" in c.body for c in pull.get_issue_comments()),
        "the approval on the pull request",
    )
    assert "human-approve-1" in outputs(world.engine, run.id)

    # Request changes: the form opens, its submission sends the run back to the coder.
    click(world, REQUEST_CHANGES, run.id, decision)
    view = wait_until(lambda: list(world.chat.workspace.views.values()), "the form")[0]
    submitted = view_json(view)
    values = {
        "feedback": {"text": {"type": "plain_text_input", "value": demo_session.HUMAN_FEEDBACK}}
    }
    submitted["state"] = {"values": values}
    response = world.chat.send_interaction({"type": "view_submission", "view": submitted})
    assert response.status_code == 200
    wait_until(
        lambda: (
            ("awaiting_human", "fixing")
            in [(t.from_state, t.to_state) for t in transitions(world.engine, run.id)]
        ),
        "the run to go back to fixing",
    )
    again = wait_until(
        lambda: next((r for r in world.runs() if r.state in ("awaiting_human", "failed")), None),
        "the second round",
    )
    assert again.state == "awaiting_human", again.reason
    fix_turn = [b for b in world.model.message_bodies() if "[step: fix-2]" in str(b)][0]
    assert demo_session.HUMAN_FEEDBACK in json.dumps(fix_turn["messages"][0])
    human.close()


def _reply_and_thread(world: World):
    """The command's reply and the run's thread, once the decision is posted in it."""
    posts = world.chat.channel_transcript("#crew").posts
    threads = [post for post in posts if post.text.startswith("Task:")]
    replies = [post for post in posts if "asked the crew for" in post.text]
    if len(posts) == 2 and len(threads) == 1 and len(threads[0].replies) == 9:
        return replies[0], threads[0]
    return None
