"""The crew on GitHub, end to end: a labelled issue on the GitHub emulator becomes a plan, a
branch with real commits, a reviewed pull request, a check run and a vote, through webhooks
both ways, PyGithub and the anthropic SDK, with repocrew's own web app and worker running."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from typing import Any

import github
import pytest

from bot.sandbox import sandbox_status
from repocrew import demo_session
from tests.support.crew_worker import spawn
from tests.support.world import KEY, REPO, World, emulated_world

# End to end on SQLite; the crew's store code runs on PostgreSQL in test_crew_run.py.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

pytestmark = pytest.mark.skipif(
    not sandbox_status().available, reason=f"no sandbox: {sandbox_status().reason}"
)


@pytest.fixture
def world(request, database_url, tmp_path) -> Iterator[World]:
    """The emulated world; its worker runs in the app unless the test is marked
    `separate_worker` (then the test starts worker processes)."""
    in_process = request.node.get_closest_marker("separate_worker") is None
    with emulated_world(database_url, tmp_path / "work", in_process_worker=in_process) as world:
        yield world


@SQLITE_ONLY
def test_a_labelled_issue_becomes_a_reviewed_tested_voted_pull_request(world):
    repo = world.human.get_repo(REPO)
    main_before = repo.get_branch("main").commit.sha
    issue = repo.create_issue(demo_session.TASK_TITLE, body=demo_session.TASK_BODY)
    issue.add_to_labels("crew")

    run = world.wait_for({"awaiting_human", "failed", "budget_exhausted", "stopped"})
    assert run.state == "awaiting_human", run.reason

    comments = [c.body for c in issue.get_comments()]
    assert any("Plan" in body and "repocrew:run=" in body for body in comments)
    (pull,) = repo.get_pulls(state="open")
    assert pull.head.ref == run.branch and pull.draft is False and not pull.merged
    assert f"Closes #{issue.number}" in pull.body
    commits = list(pull.get_commits())
    assert len(commits) == 2 and commits[0].commit.author.name == "repocrew coder"
    files = {f.filename for f in pull.get_files()}
    assert files == {"calc/ages.py", "tests/test_ages.py"}
    reviews = list(pull.get_reviews())
    assert len(reviews) == 2 and "Security checklist" in reviews[0].body
    inline = list(pull.get_review_comments())
    assert len(inline) == 1 and inline[0].path == "calc/ages.py"
    (check,) = repo.get_commit(pull.head.sha).get_check_runs(check_name="repocrew / tests")
    assert (check.status, check.conclusion) == ("completed", "success")
    statuses = repo.get_commit(pull.head.sha).get_combined_status().statuses
    assert [(s.context, s.state) for s in statuses] == [("repocrew / consensus", "success")]
    assert any("Consensus 5/5" in c.body for c in pull.get_issue_comments())
    assert repo.get_branch("main").commit.sha == main_before  # nothing merged

    # What GitHub saw, in order (as its webhooks tell it).
    seen = [
        (d.event, d.action, _who(d.payload))
        for d in world.hub.webhooks.deliveries
        if d.event in ("issue_comment", "pull_request", "pull_request_review", "check_run")
    ]
    assert _in_order(
        seen,
        [
            ("issue_comment", "created", "plan"),
            ("pull_request", "opened", "draft"),
            # GitHub lets nobody request changes on their own pull request: the App's review
            # of its own PR is a comment review (the crew still acts on its verdict).
            ("pull_request_review", "submitted", "commented"),
            ("pull_request", "synchronize", "draft"),
            ("pull_request_review", "submitted", "commented"),
            ("check_run", "completed", "success"),
            ("issue_comment", "created", "vote"),
            ("pull_request", "ready_for_review", "ready"),
        ],
    ), "\n".join(map(str, seen))

    # The run's Slack thread in #crew: opened by the lead, a reply per step under its persona.
    _settle(world, 3)
    (thread,) = world.chat.channel_transcript("#crew").posts
    assert thread.persona == "Team Lead" and thread.text.startswith("Task:")
    speakers = [reply.persona for reply in thread.replies]
    assert speakers[:4] == ["Planner", "Researcher", "Coder", "Reviewer"]
    assert len(thread.replies) == 9  # 8 steps and the decision with its buttons
    assert "waits for a human" in thread.replies[-1].text

    # Redelivering every webhook of the run changes nothing on GitHub.
    before = _snapshot(repo, issue, pull)
    for delivery in world.hub.webhooks.deliveries:
        world.hub.webhooks.redeliver(delivery)
    world.hub.webhooks.wait_idle(10)
    time.sleep(1.0)
    assert len(world.runs()) == 1
    assert _snapshot(repo, issue, pull) == before


@SQLITE_ONLY
def test_a_humans_changes_requested_review_gets_a_fix_a_re_review_and_new_tests(world):
    repo = world.human.get_repo(REPO)
    issue = repo.create_issue(demo_session.TASK_TITLE, body=demo_session.TASK_BODY)
    issue.add_to_labels("crew")
    first = world.wait_for({"awaiting_human", "failed"})
    assert first.state == "awaiting_human", first.reason
    (pull,) = repo.get_pulls(state="open")
    first_head = pull.head.sha

    moved = world.transition_count()
    pull.create_review(body=demo_session.HUMAN_FEEDBACK, event="REQUEST_CHANGES")
    run = world.wait_for({"awaiting_human", "failed"}, after=moved)

    assert run.state == "awaiting_human" and run.id == first.id, run.reason
    pull = repo.get_pull(pull.number)
    commits = list(pull.get_commits())
    assert len(commits) == 3 and commits[-1].commit.author.name == "repocrew coder"
    assert (
        "removeprefix('+')"
        in repo.get_contents("calc/ages.py", ref=pull.head.ref).decoded_content.decode()
    )
    reviews = [r.user.login for r in pull.get_reviews()]
    assert reviews == ["repocrew[bot]", "repocrew[bot]", "octocat", "repocrew[bot]"]
    (check,) = repo.get_commit(pull.head.sha).get_check_runs(check_name="repocrew / tests")
    assert pull.head.sha != first_head and check.conclusion == "success"
    human_turn = [b for b in world.model.message_bodies() if "[step: fix-2]" in str(b)][0]
    assert demo_session.HUMAN_FEEDBACK in str(human_turn["messages"][0])


@SQLITE_ONLY
def test_a_reader_and_the_bot_itself_cannot_start_a_run(world):
    reader = github.Github(base_url=world.hub_url, auth=github.Auth.Token("ghp_reader"))
    issue = world.human.get_repo(REPO).create_issue("Please", body="do things")
    reader.get_repo(REPO).get_issue(issue.number).create_comment("/crew go")
    world.hub.webhooks.wait_idle(10)
    _settle(world)

    assert world.runs() == []
    replies = [c.body for c in issue.get_comments()]
    assert len(replies) == 2 and "only people with write access" in replies[1]
    # The reply came from the App; its own comment event triggered nothing more.
    assert issue.get_comments()[1].user.login == "repocrew[bot]"


def _who(payload: dict[str, Any]) -> str:
    """A short label of a delivery: which post, which review state, which PR state."""
    if "comment" in payload:
        body = payload["comment"]["body"]
        return "plan" if "step=plan " in body else "vote" if "step=vote-" in body else "other"
    if "review" in payload:
        return payload["review"]["state"]
    if "check_run" in payload:
        return str(payload["check_run"]["conclusion"])
    return "draft" if payload["pull_request"].get("draft") else "ready"


def _in_order(seen: list[tuple], expected: list[tuple]) -> bool:
    """`expected` is a subsequence of `seen`."""
    remaining = iter(seen)
    return all(any(item == wanted for item in remaining) for wanted in expected)


def _settle(world: World, seconds: float = 1.5) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        world.hub.webhooks.wait_idle(5)
        time.sleep(0.1)


def _snapshot(repo, issue, pull) -> tuple:
    return (
        [c.body for c in issue.get_comments()],
        [c.body for c in pull.get_issue_comments()],
        [r.id for r in pull.get_reviews()],
        [c.sha for c in pull.get_commits()],
        pull.get_review_comments().totalCount,
        len(list(repo.get_pulls(state="all"))),
    )


def _worker(settings, crash_at: str = "") -> subprocess.Popen:
    return spawn(settings, anthropic_key=KEY, crash_at=crash_at)


@pytest.mark.separate_worker
@SQLITE_ONLY
def test_a_worker_killed_after_the_push_leaves_exactly_one_pull_request(world):
    repo = world.human.get_repo(REPO)
    issue = repo.create_issue(demo_session.TASK_TITLE, body=demo_session.TASK_BODY)
    issue.add_to_labels("crew")
    world.hub.webhooks.wait_idle(10)

    doomed = _worker(world.settings, "before:create_pull:1")
    assert doomed.wait(timeout=90) == -9
    (run,) = world.runs()
    assert run.state == "coding" and run.branch == ""
    pushed = [
        ref.ref.removeprefix("refs/heads/")
        for ref in repo.get_git_refs()
        if ref.ref.startswith("refs/heads/crew/")
    ]
    assert len(pushed) == 1 and list(repo.get_pulls(state="all")) == []

    survivor = _worker(world.settings)
    try:
        run = world.wait_for({"awaiting_human", "failed"})
    finally:
        survivor.terminate()
        survivor.wait(timeout=30)
    assert run.state == "awaiting_human", run.reason
    (pull,) = repo.get_pulls(state="all")
    assert pull.head.ref == pushed[0] and len(list(pull.get_commits())) == 2
