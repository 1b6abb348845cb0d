"""Conversations in the crew's review threads, end to end through webhooks on the emulators: a
human's reply gets the reviewer's answer in the same thread (once, whatever is redelivered);
a reader's reply gets an answer and starts nothing; a bot's gets nothing; a writer's "please
fix" on the crew's pull request becomes a fix commit that the thread names."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import github
import pytest

from bot.sandbox import sandbox_status
from repocrew import demo_session
from tests.support.world import REPO, World, emulated_world

pytestmark = [
    pytest.mark.skipif(
        not sandbox_status().available, reason=f"no sandbox: {sandbox_status().reason}"
    ),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

CREW = "repocrew[bot]"


@pytest.fixture
def world(database_url, tmp_path) -> Iterator[World]:
    with emulated_world(database_url, tmp_path / "work") as world:
        world.hub.add_user("helper[bot]", type="Bot", token="ghp_helperbot")
        world.hub.repo(REPO).collaborators["helper[bot]"] = "write"
        yield world


def _crew_pull_with_its_thread(world: World):
    """The crew's pull request, waiting for a human, and its reviewer's inline comment."""
    repo = world.human.get_repo(REPO)
    issue = repo.create_issue(demo_session.TASK_TITLE, body=demo_session.TASK_BODY)
    issue.add_to_labels("crew")
    run = world.wait_for({"awaiting_human", "failed", "budget_exhausted", "stopped"})
    assert run.state == "awaiting_human", run.reason
    (pull,) = repo.get_pulls(state="open")
    (root,) = list(pull.get_review_comments())
    assert root.user.login == CREW and root.path == "calc/ages.py"
    return repo, pull, root


def _as(world: World, token: str, number: int):
    client = github.Github(base_url=world.hub_url, auth=github.Auth.Token(token))
    return client, client.get_repo(REPO).get_pull(number)


def _thread(pull, root_id: int) -> list[Any]:
    return [c for c in pull.get_review_comments() if c.raw_data.get("in_reply_to_id") == root_id]


def _until(world: World, done: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        world.hub.webhooks.wait_idle(5)
        if done():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


def _settle(world: World, seconds: float = 2.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        world.hub.webhooks.wait_idle(5)
        time.sleep(0.1)


def _answers_to(pull, root_id: int, reply_id: int) -> list[str]:
    """The crew's answers in the thread to the reply `reply_id` (by their step marker)."""
    tag = f"step=thread-{reply_id} -->"
    return [c.body for c in _thread(pull, root_id) if c.user.login == CREW and tag in c.body]


def _model_calls_for(world: World, step: str) -> int:
    return sum(1 for b in world.model.message_bodies() if f"[step: {step}]" in str(b))


def test_replies_are_answered_in_the_thread_once_readers_start_nothing_bots_get_nothing(world):
    repo, pull, root = _crew_pull_with_its_thread(world)
    moved = world.transition_count()
    commits = pull.get_commits().totalCount

    bot_client, as_bot = _as(world, "ghp_helperbot", pull.number)
    bot_reply = as_bot.create_review_comment_reply(root.id, "Please fix this, as I said.")
    question = pull.create_review_comment_reply(root.id, demo_session.THREAD_QUESTION)
    reader_client, as_reader = _as(world, "ghp_reader", pull.number)
    reader_reply = as_reader.create_review_comment_reply(root.id, "Please fix this too.")
    _until(
        world,
        lambda: (
            bool(_answers_to(pull, root.id, question.id))
            and bool(_answers_to(pull, root.id, reader_reply.id))
        ),
    )

    (answer,) = _answers_to(pull, root.id, question.id)
    assert demo_session.THREAD_ANSWER in answer
    asked = [b for b in world.model.message_bodies() if f"[step: thread-{question.id}]" in str(b)]
    context = "\n".join(block["text"] for block in asked[0]["system"])
    assert "calc/ages.py" in context and "input-normalisation" in context  # the line, finding
    assert demo_session.THREAD_QUESTION in context  # the thread so far
    assert "age = int(text)" in context  # the code around the commented line

    (to_reader,) = _answers_to(pull, root.id, reader_reply.id)
    assert "Only people with write access" in to_reader and "nothing was started" in to_reader
    assert _answers_to(pull, root.id, bot_reply.id) == []
    assert _model_calls_for(world, f"thread-{bot_reply.id}") == 0

    # The same reply delivered again (GitHub's redelivery, and a second delivery of the same
    # event): still one answer, and the model was asked once.
    delivery = next(
        d
        for d in world.hub.webhooks.deliveries
        if d.event == "pull_request_review_comment" and d.payload["comment"]["id"] == question.id
    )
    world.hub.webhooks.redeliver(delivery)
    world.hub.webhooks.send(
        delivery.event,
        delivery.payload,
        target_type=delivery.target_type,
        target_id=delivery.target_id,
    )
    _settle(world)
    assert len(_answers_to(pull, root.id, question.id)) == 1
    assert _model_calls_for(world, f"thread-{question.id}") == 1

    # Nothing started: the run did not move, no commit was pushed, every answer is the crew's
    # reply to the thread's first comment (and the crew answered none of its own).
    assert world.transition_count() == moved and world.runs()[-1].state == "awaiting_human"
    assert repo.get_pull(pull.number).get_commits().totalCount == commits
    crew_replies = [c for c in _thread(pull, root.id) if c.user.login == CREW]
    assert len(crew_replies) == 2
    bot_client.close()
    reader_client.close()


def test_a_writers_please_fix_reply_becomes_a_fix_commit_named_in_the_thread(world):
    repo, pull, root = _crew_pull_with_its_thread(world)
    moved = world.transition_count()

    request = pull.create_review_comment_reply(root.id, demo_session.THREAD_FIX_REQUEST)
    run = world.wait_for({"awaiting_human", "failed"}, after=moved)
    assert run.state == "awaiting_human", run.reason

    pull = repo.get_pull(pull.number)
    fix = list(pull.get_commits())[-1]
    assert fix.commit.author.name == "repocrew coder" and fix.sha == pull.head.sha
    assert "removeprefix('+')" in (
        repo.get_contents("calc/ages.py", ref=pull.head.ref).decoded_content.decode()
    )
    # The coder was given the thread's request, through the changes-requested path.
    fixing = [b for b in world.model.message_bodies() if "[step: fix-2]" in str(b)][0]
    assert demo_session.THREAD_FIX_REQUEST in str(fixing["messages"][0])

    _until(world, lambda: any(fix.sha in c.body for c in _thread(pull, root.id)))
    said = [c.body for c in _thread(pull, root.id) if c.user.login == CREW]
    assert len(said) == 2, said
    assert "the coder is changing this now" in said[0]
    assert f"/{REPO}/commit/{fix.sha})" in said[1] and f"[`{fix.sha[:7]}`]" in said[1]
    assert _model_calls_for(world, f"thread-{request.id}") == 0  # a request, not a question
