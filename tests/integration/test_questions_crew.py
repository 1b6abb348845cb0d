"""Questions end to end: the planner's `ask` through the real SDKs and the emulators (signed
webhooks → intake → worker; the model scripted on the Anthropic emulator).

A question to the humans pauses the run in `awaiting_answer` until someone with write access
replies (an issue comment, or a reply in the run's Slack thread); a reader's reply does not
resume it and earns one note. A question to a role is answered within the step. Redelivered
replies resume once, and a worker killed after posting the question does not post it twice.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import github
import pytest
from sqlmodel import Session, select

from bot.roster.loader import roster_text
from bot.sandbox import sandbox_status
from bot.store.model_calls import transcript
from bot.store.models import SlackMessage
from bot.store.questions import questions_of_run
from bot.store.runs import transitions
from emulators.anthropic.script import Script, Turn
from emulators.slack.state import User
from repocrew import demo_session
from tests.support.crew_worker import spawn
from tests.support.identity import prove_link, told
from tests.support.world import KEY, REPO, World, emulated_world

pytestmark = pytest.mark.skipif(
    not sandbox_status().available, reason=f"no sandbox: {sandbox_status().reason}"
)

HUMAN, STRANGER = "U0001", "U0003"
QUESTION = "Should an age of exactly 150 be accepted, or is 150 already too old?"
ANSWER = "Accept 150; refuse 151 and above."
ROLE_QUESTION = "Does anything in the repository call parse_age with negative numbers?"
ROLE_ANSWER = "No caller passes a negative age; only the tests do."
PLANNER = "You are Planner on"
DONE = {"awaiting_human", "failed", "budget_exhausted", "stopped"}


def _crew_file(tmp_path: Path) -> Path:
    """The default roster, with the planner granted `ask`."""
    text = roster_text("default")
    planner_tools = 'tools = ["list_files", "read_file", "search"]\nvotes = true'
    assert planner_tools in text
    text = text.replace(planner_tools, planner_tools.replace('"search"]', '"search", "ask"]'), 1)
    path = tmp_path / "crew.toml"
    path.write_text(text)
    return path


def _turn(system: str, first_user: str, number: int, turn: Turn) -> Turn:
    match = {"system": system, "first_user": first_user, "turn": number}
    return Turn(content=turn.content, match=match)


def asks_the_humans() -> Script:
    """The planner asks the humans first; started again with the answer, it plans as usual
    (its resumed first turn is matched by the answer block, before the asking turn)."""
    return Script(
        [
            _turn(PLANNER, "You asked humans:", 0, Turn.tool_use("list_files", {})),
            _turn(
                PLANNER,
                "[step: plan-1]",
                0,
                Turn.tool_use("ask", {"to": "humans", "question": QUESTION}),
            ),
            *demo_session.whole_run(),
        ],
        reuse=True,
    )


def asks_the_researcher() -> Script:
    """The planner asks the researcher, who answers in its own turn; then the plan."""
    ask = Turn.tool_use("ask", {"to": "researcher", "question": ROLE_QUESTION})
    answer = Turn.tool_use("submit_answer", {"answer": ROLE_ANSWER})
    return Script(
        [
            _turn(PLANNER, "[step: plan-1]", 0, ask),
            _turn("You are Researcher on", "[step: plan-1.ask-1]", 0, answer),
            *demo_session.whole_run(),
        ],
        reuse=True,
    )


@pytest.fixture
def world(request, tmp_path) -> Iterator[World]:
    in_process = request.node.get_closest_marker("separate_worker") is None
    with emulated_world(
        f"sqlite:///{tmp_path / 'repocrew.db'}",
        tmp_path / "work",
        in_process_worker=in_process,
        crew_file=_crew_file(tmp_path),
    ) as world:
        yield world


def _start(world: World, script: Script):
    world.model.script = script
    issue = world.human.get_repo(REPO).create_issue(
        demo_session.TASK_TITLE, body=demo_session.TASK_BODY
    )
    issue.add_to_labels("crew")
    return issue


def _settle(world: World, seconds: float = 1.5) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        world.hub.webhooks.wait_idle(5)
        time.sleep(0.1)


def _wait(check, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _question_comments(issue) -> list[str]:
    return [c.body for c in issue.get_comments() if "step=question-" in c.body]


def _moves(world: World, run_id: int) -> list[tuple[str, str]]:
    return [(t.from_state, t.to_state) for t in transitions(world.engine, run_id)]


def _waits_for_the_answer(world: World, issue) -> int:
    run = world.wait_for({"awaiting_answer", *DONE})
    assert run.state == "awaiting_answer", run.reason
    (comment,) = _question_comments(issue)
    assert QUESTION in comment and "write access" in comment
    return run.id


def test_a_question_to_the_humans_waits_for_a_writers_comment(world):
    issue = _start(world, asks_the_humans())
    run_id = _waits_for_the_answer(world, issue)
    _settle(world)
    (thread,) = world.chat.channel_transcript("#crew").posts
    assert any(QUESTION in reply.text for reply in thread.replies)

    # A reader's replies do not count; they are told why once.
    reader = github.Github(base_url=world.hub_url, auth=github.Auth.Token("ghp_reader"))
    as_reader = reader.get_repo(REPO).get_issue(issue.number)
    as_reader.create_comment("Accept it, I'd say.")
    as_reader.create_comment("Really, accept it.")
    _settle(world, 2.5)
    assert world.runs()[-1].state == "awaiting_answer"
    notes = [c.body for c in issue.get_comments() if "can answer the crew's questions" in c.body]
    assert len(notes) == 1 and "@reader" in notes[0]

    # A writer's comment answers and resumes the step, which sees the answer.
    moved = world.transition_count()
    issue.create_comment(ANSWER)
    run = world.wait_for(DONE, after=moved)
    assert run.state == "awaiting_human", run.reason
    (question,) = questions_of_run(world.engine, run_id)
    assert (question.status, question.answer, question.answered_by) == (
        "answered",
        ANSWER,
        "octocat",
    )
    assert question.answered_via == "github" and question.answered_at >= question.asked_at
    resumed = [b for b in world.model.message_bodies() if "You asked humans:" in str(b)]
    assert resumed and QUESTION in str(resumed[0]) and ANSWER in str(resumed[0])
    pauses = [m for m in _moves(world, run_id) if "awaiting_answer" in m]
    assert pauses == [("planning", "awaiting_answer"), ("awaiting_answer", "planning")]
    steps = {call["step"] for call in transcript(world.engine, run_id)}
    assert {"plan-1", "plan-1.answered-1"} <= steps  # the asking attempt stays on the ledger

    # Every webhook redelivered (the answer's too) resumes nothing again, posts nothing again.
    before = ([c.body for c in issue.get_comments()], _moves(world, run_id))
    for delivery in world.hub.webhooks.deliveries:
        world.hub.webhooks.redeliver(delivery)
    _settle(world, 2.5)
    assert ([c.body for c in issue.get_comments()], _moves(world, run_id)) == before
    assert len(questions_of_run(world.engine, run_id)) == 1


def test_a_question_to_the_humans_waits_for_a_writers_slack_thread_reply(world):
    stranger = world.chat.workspace.add_user(User(STRANGER, "T0001", "bob", "Bob Stranger"))
    world.chat.join("#crew", stranger.id)
    prove_link(world, "octocat", user=HUMAN)
    prove_link(world, "reader", user=STRANGER)
    issue = _start(world, asks_the_humans())
    run_id = _waits_for_the_answer(world, issue)
    thread = _wait(
        lambda: next(
            (
                post
                for post in world.chat.channel_transcript("#crew").posts
                if any(QUESTION in reply.text for reply in post.replies)
            ),
            None,
        ),
        "the question in the run's thread",
    )

    world.chat.say("Accept it.", user=STRANGER, thread_ts=thread.ts)
    _wait(lambda: any("write access" in t for t in told(world.chat, STRANGER)), "the note")
    world.chat.say("Accept it, really.", user=STRANGER, thread_ts=thread.ts)
    _settle(world, 2.5)
    assert world.runs()[-1].state == "awaiting_answer"
    assert sum("write access" in t for t in told(world.chat, STRANGER)) == 1

    moved = world.transition_count()
    world.chat.say(ANSWER, user=HUMAN, thread_ts=thread.ts)
    world.chat.resend_event()  # Slack retries the event: still one answer, one resume
    run = world.wait_for(DONE, after=moved)
    assert run.state == "awaiting_human", run.reason
    (question,) = questions_of_run(world.engine, run_id)
    assert (question.answer, question.answered_by, question.answered_via) == (
        ANSWER,
        "octocat",
        "slack",
    )
    resumes = [m for m in _moves(world, run_id) if m[0] == "awaiting_answer"]
    assert resumes == [("awaiting_answer", "planning")]


def test_a_question_to_a_role_is_answered_within_the_step(world):
    issue = _start(world, asks_the_researcher())
    run = world.wait_for(DONE)
    assert run.state == "awaiting_human", run.reason
    assert all("awaiting_answer" not in move for move in _moves(world, run.id))
    assert _question_comments(issue) == []

    (question,) = questions_of_run(world.engine, run.id)
    assert (question.asker, question.addressee, question.text) == (
        "planner",
        "researcher",
        ROLE_QUESTION,
    )
    assert (question.answer, question.answered_by, question.answered_via) == (
        ROLE_ANSWER,
        "researcher",
        "model",
    )
    # The planner's next turn got the researcher's answer as the ask tool's result.
    bodies = world.model.message_bodies()
    follow_up = [b for b in bodies if PLANNER in str(b["system"]) and len(b["messages"]) == 3]
    (result,) = follow_up[0]["messages"][2]["content"]
    assert result["type"] == "tool_result"
    assert result["content"] == f"Researcher answers:\n{ROLE_ANSWER}"
    calls = transcript(world.engine, run.id)
    assert [(c["step"], c["role"]) for c in calls if c["step"].startswith("plan-1")] == [
        ("plan-1", "planner"),
        ("plan-1.ask-1", "researcher"),
        ("plan-1", "planner"),
    ]


@pytest.mark.separate_worker
def test_a_worker_killed_after_posting_the_question_does_not_post_it_twice(world):
    issue = _start(world, asks_the_humans())
    world.hub.webhooks.wait_idle(10)
    doomed = spawn(world.settings, anthropic_key=KEY, crash_at="after:create_comment:1")
    assert doomed.wait(timeout=90) == -9
    (run,) = world.runs()
    assert run.state == "planning" and len(_question_comments(issue)) == 1

    survivor = spawn(world.settings, anthropic_key=KEY)
    try:
        run = world.wait_for({"awaiting_answer", *DONE})
        _settle(world)
    finally:
        survivor.terminate()
        survivor.wait(timeout=30)
    assert run.state == "awaiting_answer", run.reason
    assert len(_question_comments(issue)) == 1
    assert len(questions_of_run(world.engine, run.id)) == 1
    assert _asked_in_slack(world) == 1


def _asked_in_slack(world: World) -> int:
    """The question's messages in the Slack outbox (this worker has no Slack token to send)."""
    with Session(world.engine) as session:
        return len([m for m in session.exec(select(SlackMessage)) if QUESTION in m.text])
