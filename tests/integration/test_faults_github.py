"""GitHub failing under a whole team run, through PyGithub against the emulator's faults:
bad gateways past the client's retries, unavailable reads, a secondary rate limit,
installation tokens revoked mid-run and the crew's branch deleted by a human. The run goes on,
or stops saying why; it never posts a second plan, pull request or review."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.sandbox import sandbox_status
from tests.support.fault_world import (
    FAST_GITHUB,
    fault_world,
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


def test_a_run_rides_out_bad_gateways_rate_limits_and_revoked_tokens(world):
    faults = world.hub.faults
    # Longer than the client's retries: the coder's job fails once and the worker retries it.
    burst = FAST_GITHUB.retries + 1 + 2
    faults.add("POST", f"/repos/{REPO}/pulls", "server_error", times=burst)
    # Unavailable on reads, within the client's retries: ridden out without a job retry.
    unavailable = {"message": "Service Unavailable"}
    faults.add("GET", f"/repos/{REPO}/pulls/*", status=503, body=unavailable, times=2)
    limited = faults.add("POST", f"/repos/{REPO}/pulls/*/reviews", "secondary_rate_limit")
    slowed = faults.add("POST", f"/repos/{REPO}/statuses/*", delay=1.0)  # the vote's status
    issue = start_run(world)

    # Revoke every installation token while a request is held (the rate limit's Retry-After,
    # the slowed status): the request then meets a token GitHub no longer accepts.
    revoked = []
    for held in (limited, slowed):
        wait_until(lambda held=held: held.times == 0 or state_of(world) in ENDED, "the fault", 180)
        revoked.append(world.hub.revoke_installation_tokens())
    run = world.wait_for(ENDED)

    assert run.state == "awaiting_human", run.reason
    assert faults.pending() == 0 and all(revoked)  # every fault was served
    repo = world.human.get_repo(REPO)
    (pull,) = repo.get_pulls(state="all")
    assert pull.head.ref == run.branch
    assert len(list(pull.get_reviews())) == 2  # the review and the re-review, once each
    plans = [c for c in issue.get_comments() if f"repocrew:run={run.id} step=plan" in c.body]
    assert len(plans) == 1
    votes = [c for c in pull.get_issue_comments() if "step=vote-" in c.body]
    assert len(votes) == 1
    # The burst (all of it served, above) failed the job once; the worker's retry finished it.
    job = the_ended_job(world, "crew.run")
    assert (job.status, job.attempts) == ("done", 2)
    # New tokens were minted after each revocation and used from then on.
    live = [t for t in world.hub.tokens.values() if t.installation is not None]
    assert live, "no installation token was minted after the revocation"


def test_a_deleted_branch_stops_the_run_with_the_reason_once(world):
    # The reviewer's review is held for a moment; the human deletes the branch meanwhile.
    held = world.hub.faults.add("POST", f"/repos/{REPO}/pulls/*/reviews", delay=2.0)
    issue = start_run(world)
    wait_until(lambda: held.times == 0 or state_of(world) in ENDED, "the review")
    run = world.runs()[-1]
    world.human.get_repo(REPO).get_git_ref(f"heads/{run.branch}").delete()

    run = world.wait_for(ENDED)
    assert run.state == "stopped"
    assert run.reason == (
        f"the branch {run.branch} was deleted, so the crew stopped (start a new run to try again)"
    )
    # Stopped at once, not retried into the ground.
    job = the_ended_job(world, "crew.run")
    assert (job.status, job.attempts) == ("done", 1)
    # The reason is on GitHub once, and in the run's Slack thread.
    pull = world.human.get_repo(REPO).get_pull(run.pr_number)
    ends = [c.body for c in pull.get_issue_comments() if "step=end" in c.body]
    assert len(ends) == 1 and run.reason in ends[0]
    assert not [c for c in issue.get_comments() if "step=end" in c.body]
    outbox_settled(world)
    last = thread_replies(world)[-1]
    assert last.persona == "Team Lead" and f"Run {run.id} stopped" in last.text
    assert run.branch in last.text
