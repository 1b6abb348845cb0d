"""The team run's states and the transitions allowed between them (drawn in the README)."""

from __future__ import annotations

from enum import StrEnum


class RunState(StrEnum):
    QUEUED = "queued"
    PLANNING = "planning"
    RESEARCHING = "researching"
    CODING = "coding"
    REVIEWING = "reviewing"
    FIXING = "fixing"
    TESTING = "testing"
    VOTING = "voting"
    AWAITING_HUMAN = "awaiting_human"
    AWAITING_ANSWER = "awaiting_answer"
    DONE = "done"
    FAILED = "failed"
    STOPPED = "stopped"
    BUDGET_EXHAUSTED = "budget_exhausted"


TERMINAL = frozenset({RunState.DONE, RunState.FAILED, RunState.STOPPED, RunState.BUDGET_EXHAUSTED})

# The step each working state is doing (hence its role); leaving the queue and the vote are the
# lead's.
STATE_STEP = {
    RunState.PLANNING: "plan",
    RunState.RESEARCHING: "research",
    RunState.CODING: "code",
    RunState.REVIEWING: "review",
    RunState.FIXING: "fix",
    RunState.TESTING: "test",
}

# States in which the crew has nothing to do until a human (or an event) moves the run.
WAITING = frozenset({RunState.AWAITING_HUMAN, RunState.AWAITING_ANSWER})

# The states whose step's agents may ask the humans a question: the run waits in
# awaiting_answer and goes back to the asking state (the step again) when a writer answers.
ASKING = frozenset(
    {
        RunState.PLANNING,
        RunState.RESEARCHING,
        RunState.CODING,
        RunState.REVIEWING,
        RunState.FIXING,
        RunState.TESTING,
        RunState.VOTING,
    }
)

# Any working state may end early: a crash the step cannot recover from, a human's stop, or
# a budget that would be exceeded by the next model call.
_EARLY_ENDS = frozenset({RunState.FAILED, RunState.STOPPED, RunState.BUDGET_EXHAUSTED})

TRANSITIONS: dict[RunState, frozenset[RunState]] = {
    # A review-only run (`/crew review` on any pull request) goes straight to the reviewer.
    RunState.QUEUED: frozenset({RunState.PLANNING, RunState.REVIEWING}) | _EARLY_ENDS,
    RunState.PLANNING: frozenset({RunState.RESEARCHING}) | _EARLY_ENDS,
    # The researcher may send a plan back once when the repository contradicts it; a plan-only
    # run (`/crew plan`) waits for a human's `/crew go` after the research.
    RunState.RESEARCHING: frozenset({RunState.CODING, RunState.PLANNING, RunState.AWAITING_HUMAN})
    | _EARLY_ENDS,
    RunState.CODING: frozenset({RunState.REVIEWING}) | _EARLY_ENDS,
    # An automatic review of a person's pull request is done once it is posted.
    RunState.REVIEWING: frozenset(
        {RunState.FIXING, RunState.TESTING, RunState.AWAITING_HUMAN, RunState.DONE}
    )
    | _EARLY_ENDS,
    RunState.FIXING: frozenset({RunState.REVIEWING, RunState.TESTING}) | _EARLY_ENDS,
    RunState.TESTING: frozenset({RunState.VOTING, RunState.FIXING}) | _EARLY_ENDS,
    RunState.VOTING: frozenset({RunState.AWAITING_HUMAN, RunState.FIXING}) | _EARLY_ENDS,
    # A human approves (done), asks for changes (fixing), says go after a plan (coding) or stops.
    RunState.AWAITING_HUMAN: frozenset(
        {RunState.DONE, RunState.FIXING, RunState.CODING, RunState.STOPPED}
    ),
    # A writer's answer resumes the step that asked; a human may stop the run meanwhile.
    RunState.AWAITING_ANSWER: ASKING | frozenset({RunState.STOPPED}),
    RunState.DONE: frozenset(),
    RunState.FAILED: frozenset(),
    RunState.STOPPED: frozenset(),
    RunState.BUDGET_EXHAUSTED: frozenset(),
}


# Any state whose step's agents may ask the humans pauses in awaiting_answer (`ask`).
for _asking in ASKING:
    TRANSITIONS[_asking] |= {RunState.AWAITING_ANSWER}


class IllegalTransition(ValueError):
    """A step tried to move a run along an edge the state machine does not have."""


def check_transition(current: RunState, target: RunState) -> None:
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(f"a run cannot go from {current} to {target}")


def mermaid() -> str:
    """The transition table as a Mermaid state diagram (the README's copy is tested against it).

    The early ends every working state has are left out of the drawing and named in a note.
    """
    lines = ["stateDiagram-v2", "    [*] --> queued"]
    for source, targets in TRANSITIONS.items():
        shown = targets if source in WAITING else targets - _EARLY_ENDS
        lines += [f"    {source} --> {target}" for target in sorted(shown)]
    lines.append("    done --> [*]")
    lines.append(
        "    note right of queued: every working state may also end in"
        " failed, stopped or budget_exhausted"
    )
    return "\n".join(lines)
