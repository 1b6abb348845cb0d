"""What the crew really did, read from the store: the facts a standup may state, per role.

Every line of a standup comes from these rows (step outputs, votes, transitions, runs), so an
agent with no rows says it has nothing to report instead of inventing work. The window is
[start, end) in UTC; "today" and the blockers are the store as it is now.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from bot.roster.models import Crew
from bot.runs.memory import kind_of
from bot.runs.states import STATE_STEP, TERMINAL, RunState
from bot.store.activity import standup_activity
from bot.store.engine import Engine
from bot.store.models import RunTransition, StepOutput, Vote
from bot.store.question_models import HUMANS, Question
from bot.store.questions import open_questions

HUMAN = "human"  # the role of outputs a person made (a changes-requested review)
BLOCKING_ENDS = (RunState.FAILED, RunState.BUDGET_EXHAUSTED)


@dataclass(frozen=True)
class RunRef:
    id: int
    title: str
    pr_number: int | None
    state: str
    mode: str = "full"
    task: str = ""  # its sprint task's key, if it is one (`sprint_facts`)


@dataclass(frozen=True)
class StepDone:
    run_id: int
    step: str  # plan-1, review-2, …


@dataclass(frozen=True)
class PullOpened:
    run_id: int
    pr_number: int


@dataclass(frozen=True)
class ReviewDone:
    run_id: int
    step: str
    event: str  # APPROVE, REQUEST_CHANGES or COMMENT
    inline_comments: int


@dataclass(frozen=True)
class TestDone:
    __test__ = False  # not a pytest class, despite the name

    run_id: int
    step: str
    passed: bool
    passed_count: int
    failed_count: int
    not_run: bool = False  # no sandbox, so the tests never ran


@dataclass(frozen=True)
class VoteCast:
    run_id: int
    round: int
    decision: str


@dataclass(frozen=True)
class Blocker:
    run_id: int
    kind: str  # awaiting_human, awaiting_answer, failed, budget_exhausted or tests_failing
    reason: str = ""


@dataclass(frozen=True)
class Need:
    run_id: int
    who: str  # a role key, or "human"
    step: str  # what it waits for: a step kind, or "decision" / "go" / "answer" from a human
    about: str = ""  # the question a human's answer is wanted to


@dataclass(frozen=True)
class Handoff:
    """One link of the dependency chain: whose work goes to whom next on a run."""

    run_id: int
    giver: str | None  # the role of the run's newest output (None: nothing done yet)
    taker: str  # the role working on it now, or "human"
    step: str  # the step the taker does ("decision" / "go" for a human)


@dataclass
class RoleFacts:
    role: str
    steps: list[StepDone] = field(default_factory=list)
    prs_opened: list[PullOpened] = field(default_factory=list)
    reviews: list[ReviewDone] = field(default_factory=list)
    tests: list[TestDone] = field(default_factory=list)
    votes: list[VoteCast] = field(default_factory=list)
    runs_by_state: dict[str, int] = field(default_factory=dict)  # the runs it worked on
    today: list[StepDone] = field(default_factory=list)  # run and the step it is on
    blockers: list[Blocker] = field(default_factory=list)
    needs: list[Need] = field(default_factory=list)

    @property
    def quiet(self) -> bool:
        return not (self.steps or self.votes or self.today or self.blockers or self.needs)


@dataclass
class TeamFacts:
    start: datetime
    end: datetime
    roles: dict[str, RoleFacts]
    runs: dict[int, RunRef]
    chain: list[Handoff] = field(default_factory=list)
    active: dict[str, int] = field(default_factory=dict)  # runs not ended, by state
    ended: dict[str, int] = field(default_factory=dict)  # runs ended in the window, by state


def gather(engine: Engine, crew: Crew, *, start: datetime, end: datetime) -> TeamFacts:
    """The facts of every role of `crew` for the window [start, end)."""
    activity = standup_activity(engine, start=start, end=end, finished=TERMINAL)
    runs = {
        run_id: RunRef(run_id, run.title, run.pr_number, run.state, run.mode)
        for run_id, run in activity.runs.items()
    }
    facts = TeamFacts(start, end, {key: RoleFacts(key) for key in crew.roles}, runs)
    _yesterday(facts, activity.outputs, activity.votes)
    _ends(facts, crew, activity.ended)
    _now(facts, crew, activity.active_ids, activity.history)
    _questions(facts, crew, open_questions(engine, ended=[state.value for state in TERMINAL]))
    return facts


def _questions(facts: TeamFacts, crew: Crew, questions: list[Question]) -> None:
    """A run waiting on the humans' answer blocks the role that asked, which needs a human."""
    for question in questions:
        run = facts.runs.get(question.run_id)
        if question.addressee != HUMANS or run is None or question.asker not in crew.roles:
            continue
        if run.state != RunState.AWAITING_ANSWER:
            continue
        asker = facts.roles[question.asker]
        asker.blockers.append(Blocker(run.id, RunState.AWAITING_ANSWER, question.text))
        asker.needs.append(Need(run.id, HUMAN, "answer", question.text))
        facts.chain.append(Handoff(run.id, question.asker, HUMAN, "answer"))


def _yesterday(facts: TeamFacts, done: list[StepOutput], votes: list[Vote]) -> None:
    worked: dict[str, set[int]] = {key: set() for key in facts.roles}
    for row in done:
        role = facts.roles.get(row.role)
        if role is None:
            continue  # a human's output, or a role the roster no longer has
        content = json.loads(row.content)
        role.steps.append(StepDone(row.run_id, row.step))
        worked[row.role].add(row.run_id)
        kind = kind_of(row.step)
        pr_number = facts.runs[row.run_id].pr_number
        if kind == "code" and pr_number is not None:
            role.prs_opened.append(PullOpened(row.run_id, pr_number))
        elif kind == "review":
            event, inline = content.get("event", "COMMENT"), content.get("inline_comments", 0)
            role.reviews.append(ReviewDone(row.run_id, row.step, event, inline))
        elif kind == "test":
            counts = content.get("counts") or {}
            role.tests.append(
                TestDone(
                    row.run_id,
                    row.step,
                    bool(content.get("passed")),
                    int(counts.get("passed", 0)),
                    int(counts.get("failed", 0)) + int(counts.get("errors", 0)),
                    bool(content.get("not_run")),
                )
            )
    for vote in votes:
        if vote.role in facts.roles:
            facts.roles[vote.role].votes.append(VoteCast(vote.run_id, vote.round, vote.decision))
            worked[vote.role].add(vote.run_id)
    for key, run_ids in worked.items():
        states = Counter(facts.runs[run_id].state for run_id in run_ids)
        facts.roles[key].runs_by_state = dict(sorted(states.items()))


def _ends(facts: TeamFacts, crew: Crew, ended: list[RunTransition]) -> None:
    """Runs that ended in the window; a failure or a budget stop blocks the role whose step
    was running."""
    facts.ended = dict(sorted(Counter(row.to_state for row in ended).items()))
    for row in ended:
        if row.to_state in BLOCKING_ENDS:
            role = _role_of_state(crew, row.from_state, facts.runs[row.run_id].mode)
            facts.roles[role].blockers.append(Blocker(row.run_id, row.to_state, row.reason))


def _now(facts: TeamFacts, crew: Crew, active_ids: list[int], history: list[StepOutput]) -> None:
    """Today's work, the runs waiting on a human, failing tests, and who waits on whom."""
    outputs: dict[int, list[StepOutput]] = {run_id: [] for run_id in active_ids}
    for row in history:
        outputs[row.run_id].append(row)
    facts.active = dict(sorted(Counter(facts.runs[i].state for i in active_ids).items()))
    for run_id in active_ids:
        run, rows = facts.runs[run_id], outputs[run_id]
        done_by = [row.role for row in rows if row.role in crew.roles or row.role == HUMAN]
        giver = done_by[-1] if done_by else None
        agents = [role for role in done_by if role != HUMAN]
        failing = _failing_test(rows)
        if failing is not None:
            tester = facts.roles[crew.role_for("test").key]
            tester.blockers.append(Blocker(run_id, "tests_failing", f"{failing} failed"))
        if run.state == RunState.AWAITING_ANSWER:
            continue  # the asker's blocker and need come from its question (`_questions`)
        if run.state == RunState.AWAITING_HUMAN:
            owner = crew.role_for("review" if run.mode == "review" else "code").key
            ask = "go" if run.mode == "plan" and run.pr_number is None else "decision"
            facts.roles[owner].blockers.append(Blocker(run_id, RunState.AWAITING_HUMAN))
            facts.roles[owner].needs.append(Need(run_id, HUMAN, ask))
            # A person's approval (an output too) leaves the last agent's work in their hands.
            facts.chain.append(Handoff(run_id, agents[-1] if agents else owner, HUMAN, ask))
            continue
        step = _step_of_state(run.state, run.mode)
        taker = _role_of_state(crew, run.state, run.mode)
        for key in _doers(crew, run.state, taker):
            facts.roles[key].today.append(StepDone(run_id, step))
        facts.chain.append(Handoff(run_id, giver, taker, step))
        if giver in crew.roles and giver != taker:
            facts.roles[giver].needs.append(Need(run_id, taker, step))


def _failing_test(rows: list[StepOutput]) -> str | None:
    """The run's newest test step when it failed and no fix has come since."""
    for row in reversed(rows):
        kind = kind_of(row.step)
        if kind == "fix":
            return None
        if kind == "test":
            return None if json.loads(row.content).get("passed") else row.step
    return None


def _step_of_state(state: str, mode: str) -> str:
    if state == RunState.QUEUED:
        return "review" if mode == "review" else "plan"
    return STATE_STEP.get(RunState(state), "vote")


def _role_of_state(crew: Crew, state: str, mode: str) -> str:
    step = _step_of_state(state, mode)
    return crew.lead if step == "vote" else crew.role_for(step).key


def _doers(crew: Crew, state: str, taker: str) -> list[str]:
    """Who has the run on today's list: every voter during a vote, else the step's role."""
    if state == RunState.VOTING:
        return [role.key for role in crew.voting_roles]
    return [taker]
