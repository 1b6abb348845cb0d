"""The model failing under a team run, through the anthropic SDK against the emulator: an
overload and a rate limit that outlast the SDK's retries, a stream that stalls and is cut, and
a small budget. The run backs off and goes on without redoing finished steps or paying twice
for a call; a budget stops it with the reason, whatever the retries."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from bot.sandbox import sandbox_status
from tests.support.fault_world import (
    fault_world,
    ledger,
    outbox_settled,
    start_run,
    state_of,
    the_ended_job,
    thread_replies,
    wait_until,
)
from tests.support.world import REPO, World

pytestmark = pytest.mark.skipif(
    not sandbox_status().available, reason=f"no sandbox: {sandbox_status().reason}"
)
ENDED = {"awaiting_human", "failed", "stopped", "budget_exhausted"}


@pytest.fixture
def world(tmp_path) -> Iterator[World]:
    with fault_world(tmp_path) as world:
        yield world


def answered(world: World) -> list:
    """Message requests the emulator answered in full (a reply the client could bill)."""
    return [
        r
        for r in world.model.requests
        if r.path == "/v1/messages"
        and r.status == 200
        and (not r.events or r.events[-1] == "message_stop")
    ]


def test_overload_rate_limit_and_a_stalled_stream_are_ridden_out(world):
    model = world.model
    # An overload the SDK's own backoff rides out (its retries span about 5 s)...
    model.fail_for(3.0, "overloaded_error")
    # ... the coder's first streamed reply stalls and is cut ...
    model.stall_stream(after=4, seconds=1.0)
    start_run(world)
    wait_until(lambda: state_of(world) in {"reviewing"} | ENDED, "the review", 180)
    # ... and a rate limit that outlasts them (4 retries, 1 s apart): the job fails, and the
    # worker's retry finds it over.
    model.fail_for(5.5, "rate_limit_error", retry_after=1)
    run = world.wait_for(ENDED, timeout=180)

    assert run.state == "awaiting_human", run.reason
    job = the_ended_job(world, "crew.run")
    assert (job.status, job.attempts) == ("done", 2)
    statuses = Counter(r.status for r in model.requests if r.path == "/v1/messages")
    assert statuses[529] >= 2 and statuses[429] >= 5
    stalled = [r for r in model.requests if r.events and r.events[-1] != "message_stop"]
    assert len(stalled) == 1 and stalled[0].body["stream"] is True
    # Every answer was billed once; nothing was asked again after the job's retry.
    calls = ledger(world)
    assert len(calls) == len(answered(world))
    assert len({(c.step, c.seq) for c in calls}) == len(calls)
    # The finished steps were not redone: one plan, one research, one review of each round.
    steps = Counter(c.step for c in calls if c.seq == 0)
    assert steps["plan-1"] == steps["review-1"] == steps["review-2"] == 1


def test_a_small_budget_stops_the_run_with_the_reason_despite_retries(world):
    world.model.overload(times=2)  # retried by the SDK; a failed call costs nothing
    issue = start_run(world, {".repocrew.toml": "[budgets]\nrun_usd = 0.2\n"})
    run = world.wait_for(ENDED)

    assert run.state == "budget_exhausted"
    assert run.reason.startswith("budget exhausted: the run has spent $0.0")
    assert "of its $0.2 budget and the next call could cost up to $0.2" in run.reason
    calls = ledger(world)
    assert len(calls) == len(answered(world)) and calls
    assert 0 < sum(c.cost_usd for c in calls) < 0.2
    assert {c.step for c in calls} == {"plan-1", "research-1"}  # stopped before the coder
    # The run ends first, then says why on the issue.
    wait_until(lambda: run.reason in [c.body for c in issue.get_comments()][-1], "the end post")
    outbox_settled(world)
    assert "budget exhausted" in thread_replies(world)[-1].text
    assert not list(world.human.get_repo(REPO).get_pulls(state="all"))
