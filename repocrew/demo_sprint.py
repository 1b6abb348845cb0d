"""`repocrew demo --sprint`: a small sprint on the sample repository with the product-team
roster, offline.

octocat opens a tracking issue and asks for a sprint; the CEO plans four tasks (A and B, then C
on both, then D), octocat approves with `/crew go`, the crew opens the tasks' issues and runs A
and B side by side; octocat merges each pull request through GitHub's REST API as the crew asks,
which starts what waited on it. Mid-sprint the CEO holds the standup; the sprint ends in its
review. The figures are read back from the emulators (`demo_sprint_report`).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.roster.loader import load_crew, roster_text
from bot.roster.models import Crew
from bot.roster.routing import standup_channels
from bot.sprints.states import SprintState, TaskState
from bot.standups.run import hold_standup
from bot.store import sprints as stored
from bot.store.engine import Engine
from bot.store.runs import get_run
from bot.wiring import build_services
from emulators.slack import SlackEmulator
from emulators.slack.defaults import BOT_USER, HUMAN
from emulators.slack.state import SlackError
from repocrew import demo_session
from repocrew.demo_human import Human
from repocrew.demo_sprint_report import SprintDemo, is_standup, read_back
from repocrew.demo_sprint_script import GOAL, HUMAN_ANSWER, sprint_script
from repocrew.serve import start_background
from repocrew.world import emulated_world

REPO = "octo-org/ages"
TITLE = "Sprint: age limits for the sign-up form"
# The demo's crew: the packaged product team, going on to the votes where no sandbox is.
SKIP = ("skip_without_sandbox = false", "skip_without_sandbox = true")
ENDED = frozenset({SprintState.CLOSED, SprintState.CANCELLED, SprintState.FAILED})
QUESTION_MARK = "step=question-"  # the hidden marker of the crew's question to the humans
RUN_FAILED = frozenset({"failed", "stopped", "budget_exhausted"})


@dataclass
class Stage:
    """Where the sprint plays: the emulated Slack, repocrew's store, octocat and the crew."""

    chat: SlackEmulator
    engine: Engine
    human: Human
    crew: Crew
    repo: str = REPO
    wait_idle: Callable[[], Any] = lambda: None  # GitHub's webhooks delivered
    merged: set[int] = field(default_factory=set)
    answered: set[int] = field(default_factory=set)  # the crew's question comments answered


def sprint_crew_text() -> str:
    text = roster_text("product-team")
    if SKIP[0] not in text:
        raise RuntimeError("the product-team roster no longer says skip_without_sandbox = false")
    return text.replace(*SKIP)


def open_channels(chat: SlackEmulator, crew: Crew) -> None:
    """Every channel the crew posts in, with the crew's bot invited (as a workspace would)."""
    named = {crew.channel or "#crew", *crew.channels.topics.values(), *crew.channels.roles.values()}
    for channel in sorted(named):
        try:
            chat.join(channel)
        except SlackError:
            chat.add_channel(channel.lstrip("#"), members=(HUMAN, BOT_USER))


def run_sprint_demo(
    *, timeout: float = 300.0, say: Callable[[str], None] = lambda _line: None
) -> SprintDemo:
    with tempfile.TemporaryDirectory(prefix="repocrew-demo-sprint-") as directory:
        root = Path(directory)
        crew_file = root / "crew.toml"
        crew_file.write_text(sprint_crew_text(), encoding="utf-8")
        with emulated_world(
            repo=REPO,
            files=demo_session.sample_files(),
            script=sprint_script(),
            root=root,
            overrides={"crew_file": crew_file},
        ) as world:
            say("GitHub, Slack and the model are emulated; repocrew listens on loopback")
            crew = load_crew(crew_file)
            open_channels(world.chat, crew)
            # A second worker, as at scale-out: one worker drives one run at a time.
            stop_second = start_background(
                build_services(world.settings, world.engine), workers=True, scheduler=False
            )
            human = world.human()
            stage = Stage(
                world.chat,
                world.engine,
                human,
                crew,
                wait_idle=lambda: world.hub.webhooks.wait_idle(5),
            )
            try:
                return play(stage, timeout=timeout, say=say)
            finally:
                human.close()
                stop_second()


def play(stage: Stage, *, timeout: float, say: Callable[[str], None]) -> SprintDemo:
    """The sprint from octocat's side, until its review; the figures read back."""
    human = stage.human
    tracking = human.open_issue(TITLE, GOAL)
    human.comment(tracking, "/crew sprint")
    say(f"octocat opened {stage.repo}#{tracking} and asked for a sprint: {GOAL!r}")
    sprint_id = _until(timeout, "the plan", lambda: _planned(stage, tracking))
    human.comment(tracking, "/crew go")
    say(f"the CEO posted the plan on #{tracking}; octocat approves it with `/crew go`")
    standup = False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stage.wait_idle()
        sprint = stored.get_sprint(stage.engine, sprint_id)
        if sprint.state in ENDED:
            break
        tasks = stored.tasks(stage.engine, sprint_id)
        _merge_waiting(stage, tasks, say)
        _answer_questions(stage, tasks, say)
        delivered = sum(task.state == TaskState.DELIVERED for task in tasks)
        if not standup and delivered >= 2:
            _standup(stage, say)
            standup = True
        time.sleep(0.3)
    else:
        raise TimeoutError(
            f"the sprint did not end in {timeout:.0f} s: {_states(stage, sprint_id)}"
        )
    say(f"every task ended; the CEO posted the sprint review and the sprint is {sprint.state}")
    stage.wait_idle()
    return read_back(stage.engine, human, stage.chat, sprint_id=sprint_id)


def _planned(stage: Stage, tracking: int) -> int | None:
    sprint = stored.sprint_on_issue(stage.engine, repo=stage.repo, issue=tracking)
    if sprint is not None and sprint.state == SprintState.FAILED:
        raise RuntimeError(f"the sprint's plan failed: {sprint.reason}")
    return sprint.id if sprint is not None and sprint.state != SprintState.PLANNING else None


def _merge_waiting(stage: Stage, tasks: list[Any], say: Callable[[str], None]) -> None:
    """octocat merges each pull request the crew hands over (its run waits for a person)."""
    for task in tasks:
        if task.run_id is None or task.state != TaskState.RUNNING:
            continue
        run = get_run(stage.engine, task.run_id)
        if run.state in RUN_FAILED:
            raise RuntimeError(f"task {task.key}'s run {run.id} {run.state}: {run.reason}")
        if run.state == "awaiting_human" and run.pr_number and run.pr_number not in stage.merged:
            stage.human.merge(run.pr_number)
            stage.merged.add(run.pr_number)
            say(f"octocat merged #{run.pr_number} ({task.key}: {task.title})")


def _answer_questions(stage: Stage, tasks: list[Any], say: Callable[[str], None]) -> None:
    """octocat answers the crew's question on a task's issue with a comment, as a writer would
    (the run waits for it in `awaiting_answer`)."""
    for task in tasks:
        if task.run_id is None or get_run(stage.engine, task.run_id).state != "awaiting_answer":
            continue
        for comment in stage.human.issue_comments(task.issue_number or 0):
            if QUESTION_MARK not in comment["body"] or comment["id"] in stage.answered:
                continue
            stage.human.comment(task.issue_number or 0, HUMAN_ANSWER)
            stage.answered.add(comment["id"])
            say(f"the crew asked on #{task.issue_number} ({task.key}); octocat answers there")


def _standup(stage: Stage, say: Callable[[str], None], timeout: float = 30.0) -> None:
    """The lead holds the standup mid-sprint in each channel a role reports in (as tomorrow's,
    so today's work is yesterday's)."""
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    expected = 0
    for channel in standup_channels(stage.crew):
        result = hold_standup(stage.engine, stage.crew, channel=channel, now=tomorrow, force=True)
        say(f"mid-sprint, the CEO holds the standup in {channel} ({result.outcome})")
        expected += result.messages
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:  # the outbox job posts them at Slack's pace
        posts = [p for c in stage.chat.transcript() for p in c.posts if is_standup(p)]
        if sum(1 + len(post.replies) for post in posts) >= expected:
            return
        time.sleep(0.2)


def _states(stage: Stage, sprint_id: int) -> str:
    tasks = stored.tasks(stage.engine, sprint_id)
    runs = {t.key: get_run(stage.engine, t.run_id).state for t in tasks if t.run_id}
    return f"tasks {[(t.key, t.state, t.reason) for t in tasks]}, runs {runs}"


def _until(timeout: float, what: str, ready: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = ready()
        if found:
            return found
        time.sleep(0.2)
    raise TimeoutError(f"the demo waited {timeout:.0f} s for {what}")
