"""The sprint demo's figures, read back from the emulators where they live (issues and pull
requests from GitHub's REST API, posts from Slack) and from the store's logged transitions
(when each run was at work) and the stored questions."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from bot.runs.states import TERMINAL, WAITING, RunState
from bot.store import sprints as stored
from bot.store.engine import Engine
from bot.store.question_models import QuestionStatus
from bot.store.questions import questions_of_run
from bot.store.runs import transitions
from emulators.slack import SlackEmulator
from repocrew.demo_human import Human

TASK_MARK = re.compile(r"<!-- repocrew:sprint=(\d+) part=task-(\S+) -->")
DEPENDS = re.compile(r"\*\*Depends on:\*\*(.*)")
ISSUE_REF = re.compile(r"#\d+ \(")
IDLE = TERMINAL | WAITING | {RunState.QUEUED}


@dataclass
class SprintDemo:
    sprint_state: str = ""
    sprint_tasks: int = 0
    dependency_edges: int = 0
    max_parallel_runs: int = 0
    questions_asked: int = 0
    questions_answered: int = 0
    prs: int = 0
    prs_merged: int = 0
    standup_posts: int = 0
    retro_posted: bool = False
    tasks: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def read_back(engine: Engine, human: Human, chat: SlackEmulator, *, sprint_id: int) -> SprintDemo:
    issues = [i for i in human.issues() if TASK_MARK.search(i.get("body") or "")]
    pulls = [p for p in human.pulls() if p["user"]["type"] == "Bot"]
    tasks = stored.tasks(engine, sprint_id)
    sprint = stored.get_sprint(engine, sprint_id)
    tracking = human.issue_comments(sprint.tracking_issue or 0)
    asked = [q for t in tasks if t.run_id for q in questions_of_run(engine, t.run_id)]
    return SprintDemo(
        sprint_state=sprint.state,
        sprint_tasks=len(issues),
        dependency_edges=sum(_edges(i.get("body") or "") for i in issues),
        max_parallel_runs=most_at_once(
            _at_work(transitions(engine, t.run_id)) for t in tasks if t.run_id
        ),
        questions_asked=len(asked),
        questions_answered=sum(q.status == QuestionStatus.ANSWERED for q in asked),
        prs=len(pulls),
        prs_merged=sum(bool(p.get("merged_at")) for p in pulls),
        standup_posts=sum(
            1 + len(post.replies) for c in chat.transcript() for post in c.posts if is_standup(post)
        ),
        retro_posted=any("sprint-review" in (c.get("body") or "") for c in tracking),
        tasks={task.key: task.state for task in tasks},
    )


def is_standup(post: Any) -> bool:
    return post.text.lstrip().startswith(("🗓️ *Standup", "🗓️ Standup", "Standup"))


def _edges(body: str) -> int:
    """How many issues the task's body says it depends on."""
    found = DEPENDS.search(body)
    return len(ISSUE_REF.findall(found.group(1))) if found else 0


def _at_work(moves: Iterable[Any]) -> list[tuple[datetime, int]]:
    """+1 when the run starts working, -1 when it stops (waits for a person, or ends)."""
    events = []
    for move in moves:
        was, now = move.from_state not in IDLE, move.to_state not in IDLE
        if was != now:
            events.append((move.at, 1 if now else -1))
    return events


def most_at_once(runs: Iterable[list[tuple[datetime, int]]]) -> int:
    """The most runs at work at the same moment (one stopping as another starts: not both)."""
    events = sorted((at, change) for events in runs for at, change in events)
    most = working = 0
    for _at, change in events:
        working += change
        most = max(most, working)
    return most
