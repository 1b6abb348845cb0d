"""The runs list and one run's page, as plain data read from the store.

A run's page is its timeline (every transition, with the step whose result moved it), each
step's result (the shared memory) with the model calls behind it (replies, tool calls, tokens,
cost), and the votes. A step's agents may each make their calls under a sub-key of the step
(`vote-1.reviewer` for each voter of `vote-1`): those calls belong to the step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.runs.links import forge_link
from bot.store.dashboard import RunRow, run_records, run_rows
from bot.store.engine import Engine
from bot.store.models import ModelCall, StepOutput
from bot.store.questions import questions_of_run
from webhooks.dashboard.text import Redact, first_text, pretty, shown

PAGE = 50
GIST_KEYS = ("summary", "body", "plan", "verdict", "reason", "text", "message", "title")
_TOKENS: tuple[str, ...] = ("input_tokens", "output_tokens", "cache_creation_input_tokens")
_TOKENS += ("cache_read_input_tokens",)


@dataclass(frozen=True)
class RunsPage:
    runs: list[RunRow]
    older: int | None  # the `before` of the next page, if there is one


@dataclass(frozen=True)
class ToolCall:
    name: str
    input: str


@dataclass(frozen=True)
class CallView:
    seq: int
    role: str
    model: str
    stop_reason: str
    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int
    cost_usd: float
    asked: str  # the newest message of the request: what the agent was answering
    said: list[str]
    tool_calls: list[ToolCall]
    tool_results: list[str]

    @property
    def tokens(self) -> int:
        return sum(getattr(self, name) for name in _TOKENS)


@dataclass
class StepView:
    step: str
    role: str
    at: datetime | None
    gist: str = ""
    content: str = ""
    finished: bool = False
    calls: list[CallView] = field(default_factory=list)

    @property
    def tokens(self) -> int:
        return sum(call.tokens for call in self.calls)

    @property
    def cost_usd(self) -> float:
        return sum(call.cost_usd for call in self.calls)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    from_state: str
    to_state: str
    reason: str
    step: str  # the step whose result moved the run, "" for a bare transition
    role: str


@dataclass(frozen=True)
class VoteView:
    round: int
    role: str
    decision: str
    reason: str


@dataclass(frozen=True)
class QuestionView:
    asked_at: datetime
    asker: str
    addressee: str
    text: str
    status: str
    answer: str
    answered_by: str
    answered_via: str
    answered_at: datetime | None


@dataclass(frozen=True)
class RunPage:
    run: RunRow
    task: str
    timeline: list[TimelineEntry]
    steps: list[StepView]
    votes: list[VoteView]
    links: dict[str, str]  # "repo", "issue", "pull" → its page on GitHub (a GitHub run only)
    questions: list[QuestionView] = field(default_factory=list)  # what agents asked, in order


def runs_page(engine: Engine, *, before: int | None = None, state: str | None = None) -> RunsPage:
    """The newest runs (optionally older than `before`, in `state`), PAGE at a time."""
    rows = run_rows(engine, before=before, state=state, limit=PAGE + 1)
    older = rows[PAGE - 1].id if len(rows) > PAGE else None
    return RunsPage(rows[:PAGE], older)


def run_links(run: RunRow, web_url: str) -> dict[str, str]:
    """The run's repository, issue and pull request on the configured GitHub host."""
    if run.forge != "github":
        return {}
    links = {"repo": forge_link(web_url, run.repo)}
    if run.issue_number:
        links["issue"] = forge_link(web_url, run.repo, issue=run.issue_number)
    if run.pr_number:
        links["pull"] = forge_link(web_url, run.repo, pull=run.pr_number)
    return links


def run_page(engine: Engine, run_id: int, *, redact: Redact, web_url: str) -> RunPage | None:
    records = run_records(engine, run_id=run_id)
    if records is None:
        return None
    steps = _steps(records.outputs, records.calls, redact)
    # finish_step saves a result and its transition in one transaction with one timestamp.
    made_at = {row.created_at: row for row in records.outputs}
    timeline = [
        TimelineEntry(
            row.at,
            row.from_state,
            row.to_state,
            shown(row.reason, redact, 500),
            made_at[row.at].step if row.at in made_at else "",
            made_at[row.at].role if row.at in made_at else "",
        )
        for row in records.transitions
    ]
    return RunPage(
        run=records.run,
        task=shown(records.task, redact, 4000),
        timeline=timeline,
        steps=steps,
        votes=[
            VoteView(v.round, v.role, v.decision, shown(v.reason, redact, 1000))
            for v in records.votes
        ],
        links=run_links(records.run, web_url),
        questions=[
            QuestionView(
                q.asked_at,
                q.asker,
                q.addressee,
                shown(q.text, redact, 2000),
                q.status,
                shown(q.answer or "", redact, 4000),
                q.answered_by,
                q.answered_via,
                q.answered_at,
            )
            for q in questions_of_run(engine, run_id)
        ],
    )


def _steps(outputs: list[StepOutput], calls: list[ModelCall], redact: Redact) -> list[StepView]:
    """One view per step: those with a result in the order they finished, then any step whose
    model calls never led to a result (it failed or is under way)."""
    steps: dict[str, StepView] = {}
    for row in outputs:
        content = json.loads(row.content)
        steps[row.step] = StepView(
            row.step,
            row.role,
            row.created_at,
            gist=first_text(content, GIST_KEYS, 240, redact) or _vote_gist(content),
            content=pretty(content, redact, 6000),
            finished=True,
        )
    for call in calls:
        step = step_of(call.step)
        view = steps.setdefault(step, StepView(step, call.role, call.created_at))
        view.calls.append(_call_view(call, redact))
    return list(steps.values())


def step_of(call_step: str) -> str:
    """The step a model call belongs to: `vote-1` for a voter's `vote-1.reviewer`."""
    return call_step.split(".", 1)[0]


def _vote_gist(content: Any) -> str:
    votes = content.get("votes") if isinstance(content, dict) else None
    if not isinstance(votes, list) or not votes:
        return ""
    approvals = sum(1 for vote in votes if vote.get("decision") == "approve")
    return f"{approvals}/{len(votes)} approve"


def _call_view(row: ModelCall, redact: Redact) -> CallView:
    response = json.loads(row.response)
    blocks = (response.get("content") or []) if isinstance(response, dict) else []
    said = [shown(b.get("text", ""), redact, 4000) for b in blocks if b.get("type") == "text"]
    tools = [
        ToolCall(str(b.get("name", "")), pretty(b.get("input", {}), redact, 2000))
        for b in blocks
        if b.get("type") == "tool_use"
    ]
    results = [_result_text(result, redact) for result in json.loads(row.tool_results or "[]")]
    return CallView(
        seq=row.seq,
        role=row.role,
        model=row.model,
        stop_reason=row.stop_reason,
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        cache_creation_input_tokens=row.cache_creation_input_tokens,
        cache_read_input_tokens=row.cache_read_input_tokens,
        cost_usd=row.cost_usd,
        asked=shown(_newest_message(json.loads(row.request)), redact, 2000),
        said=said,
        tool_calls=tools,
        tool_results=results,
    )


def _newest_message(request: Any) -> str:
    messages = request.get("messages") if isinstance(request, dict) else None
    if not isinstance(messages, list) or not messages:
        return ""
    return _plain(messages[-1].get("content") if isinstance(messages[-1], dict) else "")


def _plain(content: Any) -> str:
    """Message content (a string or API blocks) as readable text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n\n".join(_plain(block) for block in content)
    if isinstance(content, dict):
        if content.get("type") == "text":
            return str(content.get("text", ""))
        if content.get("type") == "tool_result":
            return "[tool result] " + _plain(content.get("content", ""))
        return json.dumps(content, ensure_ascii=False, default=str)
    return str(content)


def _result_text(result: Any, redact: Redact) -> str:
    if isinstance(result, dict) and "content" in result:
        return shown(_plain(result["content"]), redact, 2000)
    return pretty(result, redact, 2000)
