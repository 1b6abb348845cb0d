"""Automatic and incremental reviews of people's pull requests, end to end: signed webhooks
from the GitHub emulator reach repocrew's intake, the worker runs the reviewer (scripted on the
Anthropic emulator) and its review, summary and resolved threads land on the emulator.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import github
import httpx
import pytest

from bot.roster.loader import roster_text
from bot.store.pull_reviews import review_runs, state_of
from emulators.anthropic import Turn
from emulators.anthropic.script import Script
from tests.support.world import REPO, World, emulated_world

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

RISKY = "def evaluate(expression):\n    return eval(expression)\n"
FIXED = "import ast\n\n\ndef evaluate(expression):\n    return ast.literal_eval(expression)\n"
CHECKLIST = [{"item": "Untrusted input", "status": "fail", "reason": "eval of user input"}]


def _answer(comments: list[dict[str, Any]], summary: str = "Reviewed.") -> dict[str, Any]:
    return {"summary": summary, "verdict": "comment", "comments": comments, "checklist": CHECKLIST}


EVAL_FINDING = {
    "path": "calc/evaluate.py",
    "line": 2,
    "body": "eval runs whatever the caller sends.",
    "severity": "high",
    "rule": "no-eval",
    "suggestion": "    return ast.literal_eval(expression)",
}


def _reviewer(answer: dict[str, Any], *, seen: str) -> Turn:
    """The reviewer's answer to a review whose prompt holds `seen`."""
    match = {"system": seen, "first_user": "[step: review-1]", "turn": 0}
    return Turn(content=Turn.tool_use("submit_review", answer).content, match=match)


def _crew_file(tmp_path: Path, **review: Any) -> Path:
    text = roster_text("default").replace("unasked = false", "unasked = true")
    before, after = text.split("\n[review]\n", 1)
    for key, value in review.items():
        after = after.replace(f"\n{key} = ", f"\n{key} = {value!r}\n#was ", 1)
    path = tmp_path / "crew.toml"
    path.write_text(f"{before}\n[review]\n{after}")
    return path


@pytest.fixture
def make_world(database_url, tmp_path) -> Iterator[Any]:
    def make(**review: Any) -> World:
        context = emulated_world(
            database_url, tmp_path / "work", crew_file=_crew_file(tmp_path, **review)
        )
        contexts.append(context)
        return context.__enter__()

    contexts: list[Any] = []
    yield make
    for context in contexts:
        context.__exit__(None, None, None)


def _open_pull(world: World, branch: str, files: dict[str, str], **options: Any) -> Any:
    repo = world.human.get_repo(REPO)
    repo.create_git_ref(f"refs/heads/{branch}", repo.get_branch("main").commit.sha)
    for path, text in files.items():
        repo.create_file(path, f"Add {path}", text, branch=branch)
    return repo.create_pull(title=f"Work on {branch}", body="Please look.", head=branch,
                            base="main", **options)  # fmt: skip


def _settle(world: World, seconds: float = 2.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        world.hub.webhooks.wait_idle(5)
        time.sleep(0.1)


def _wait_done(world: World, count: int, timeout: float = 60) -> list[Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        world.hub.webhooks.wait_idle(5)
        runs = world.runs()
        ended = all(r.state in ("done", "failed", "awaiting_human") for r in runs)
        if len(runs) >= count and ended:
            return runs
        time.sleep(0.2)
    raise AssertionError(f"runs: {[(r.id, r.mode, r.state, r.reason) for r in world.runs()]}")


def _summaries(pull: Any) -> list[str]:
    return [c.body for c in pull.get_issue_comments() if "repocrew:pull-review" in c.body]


def test_a_push_gets_an_incremental_review_that_resolves_the_fixed_finding(make_world):
    world = make_world()
    world.model.script = Script([
        _reviewer(_answer([EVAL_FINDING]), seen="return eval(expression)"),
        _reviewer(_answer([], "The fix holds."), seen="This is an incremental review"),
    ])  # fmt: skip
    pull = _open_pull(world, "octocat-eval", {"calc/evaluate.py": RISKY})
    (first,) = _wait_done(world, 1)
    assert (first.mode, first.state) == ("auto", "done"), first.reason

    reviews = list(pull.get_reviews())
    (inline,) = list(pull.get_review_comments())
    assert len(reviews) == 1 and "Security checklist" in reviews[0].body
    assert inline.path == "calc/evaluate.py" and inline.line == 2
    assert "```suggestion" in inline.body and "repocrew:finding=" in inline.body
    (summary,) = _summaries(pull)
    assert "Open findings (1)" in summary and "no-eval" in summary and "Cost" in summary

    # Redelivered webhooks review nothing twice.
    for delivery in list(world.hub.webhooks.deliveries):
        world.hub.webhooks.redeliver(delivery)
    _settle(world)
    assert len(world.runs()) == 1 and len(list(pull.get_reviews())) == 1

    # The human pushes a fix: only the new commit is reviewed, the finding is resolved.
    repo = world.human.get_repo(REPO)
    current = repo.get_contents("calc/evaluate.py", ref="octocat-eval")
    repo.update_file("calc/evaluate.py", "Use literal_eval", FIXED, current.sha,
                     branch="octocat-eval")  # fmt: skip
    runs = _wait_done(world, 2)
    assert [(r.mode, r.state) for r in runs] == [("auto", "done"), ("auto", "done")]
    second = [b for b in world.model.message_bodies() if "incremental review" in str(b)]
    assert len(second) == 1 and "no-eval" in str(second[0])  # told, not repeated

    pull = repo.get_pull(pull.number)
    first_review, second_review = list(pull.get_reviews())
    assert "Incremental review" not in first_review.body
    assert (
        f"Incremental review: only the commits since {first_review.commit_id[:7]}"
        in second_review.body
    )
    assert len(list(pull.get_review_comments())) == 1  # the fixed finding was not re-posted
    (summary,) = _summaries(pull)  # edited, not posted again
    assert "Open findings (0)" in summary and "Resolved (1)" in summary
    assert "~~`calc/evaluate.py:2` no-eval~~" in summary and "incremental" in summary
    emulated = world.hub.repo(REPO).pulls[pull.number]
    assert list(emulated.resolved_threads) == [inline.id]  # its thread resolved over GraphQL
    memory = state_of(world.engine, repo=REPO, pr=pull.number)
    assert memory.reviewed_sha == pull.head.sha and not memory.busy
    costs = review_runs(world.engine, repo=REPO, pr=pull.number)
    assert len(costs) == 2 and all(r.cost_usd > 0 for r in costs)
    scraped = httpx.get(f"{world.crew_url}/metrics").text
    assert 'repocrew_reviews_total{mode="auto"} 2.0' in scraped
    assert 'repocrew_review_cost_usd_total{mode="auto"}' in scraped


def test_drafts_and_bots_get_no_automatic_review(make_world):
    world = make_world()
    world.model.script = Script([])
    _open_pull(world, "octocat-draft", {"calc/draft.py": RISKY}, draft=True)
    world.hub.add_user("helper-bot[bot]", type="Bot", token="ghs_helper")
    world.hub.repo(REPO).collaborators["helper-bot[bot]"] = "write"
    bot = github.Github(base_url=world.hub_url, auth=github.Auth.Token("ghs_helper"))
    repo = bot.get_repo(REPO)
    repo.create_git_ref("refs/heads/bot-bump", repo.get_branch("main").commit.sha)
    repo.create_file("calc/bump.py", "Bump", RISKY, branch="bot-bump")
    repo.create_pull(title="Bump", body="", head="bot-bump", base="main")
    _settle(world, 3)
    assert world.runs() == []
    assert world.model.message_bodies() == []


def test_the_daily_budget_stops_automatic_reviews_but_not_a_writers_crew_review(make_world):
    world = make_world(day_usd=0.0001)
    world.model.script = Script([
        _reviewer(_answer([EVAL_FINDING]), seen="calc/evaluate.py"),
        _reviewer(_answer([], "Asked for, reviewed."), seen="calc/other.py"),
    ])  # fmt: skip
    first = _open_pull(world, "octocat-eval", {"calc/evaluate.py": RISKY})
    _wait_done(world, 1)
    assert len(list(first.get_reviews())) == 1

    second = _open_pull(world, "octocat-other", {"calc/other.py": RISKY})
    _settle(world, 3)
    assert len(world.runs()) == 1  # the day's budget is spent
    notes = [c.body for c in second.get_issue_comments() if "review-budget=" in c.body]
    assert len(notes) == 1 and "Automatic review paused" in notes[0] and "/crew review" in notes[0]
    for delivery in list(world.hub.webhooks.deliveries):
        world.hub.webhooks.redeliver(delivery)
    _settle(world)
    assert len([c for c in second.get_issue_comments() if "review-budget=" in c.body]) == 1

    world.human.get_repo(REPO).get_issue(second.number).create_comment("/crew review")
    runs = _wait_done(world, 2)
    assert runs[-1].mode == "review" and runs[-1].state == "awaiting_human", runs[-1].reason
    assert len(list(second.get_reviews())) == 1
