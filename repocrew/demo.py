"""`repocrew demo`: a whole team run with no accounts, against the three emulators on loopback.

GitHub, Slack and the Anthropic API are emulated; repocrew itself is the real thing (its web
app, worker, store, sandbox and git). A sample Python repository gets an issue, a human labels
it, and the crew plans, researches, codes, reviews, fixes, tests and votes, posting under its
personas. The summary is read back from the emulators, not from repocrew's memory.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.settings import Settings
from bot.store.runs import votes
from repocrew import demo_session
from repocrew.world import World, emulated_world

REPO = "octo-org/ages"


@dataclass
class DemoSummary:
    run_state: str
    pr: int | None = None
    pr_url: str = ""
    commits: int = 0
    review_comments: int = 0
    checklist_items: int = 0
    check_conclusion: str | None = None
    votes: dict[str, str] = field(default_factory=dict)
    slack_posts: int = 0
    standup_posts: int = 0
    reason: str = ""
    transcript: str = ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("transcript")
        return data


def run_demo(
    *,
    live_model: Settings | None = None,
    timeout: float = 240.0,
    say: Callable[[str], None] = lambda _line: None,
) -> DemoSummary:
    """Run the demo in a temporary directory; `live_model` (settings with a key) uses the API."""
    with tempfile.TemporaryDirectory(prefix="repocrew-demo-") as directory:
        with emulated_world(
            repo=REPO,
            files=demo_session.sample_files(),
            script=demo_session.whole_run_script(),
            root=Path(directory),
            live_model=live_model,
        ) as world:
            say("GitHub, Slack and the model are emulated; repocrew listens on loopback")
            return _play(world, timeout, say)


def _play(world: World, timeout: float, say) -> DemoSummary:
    hub, chat, engine = world.hub, world.chat, world.engine
    human = world.human()
    number = human.open_issue(demo_session.TASK_TITLE, demo_session.TASK_BODY)
    say(f"octocat opened {REPO}#{number}: {demo_session.TASK_TITLE!r} and labelled it `crew`")
    human.label(number, "crew")
    run = world.wait_for_run(timeout, say)
    summary = DemoSummary(run_state=run.state if run else "not started")
    if run is None:
        return summary
    summary.reason = run.reason
    summary.votes = {vote.role: vote.decision for vote in votes(engine, run.id or 0)}
    pull = human.first_pull()
    if pull is not None:
        summary.pr, summary.pr_url = pull["number"], pull["html_url"]
        summary.commits = pull["commits"]
        summary.review_comments = len(human.review_comments(pull["number"]))
        summary.checklist_items = sum(
            line.lstrip().startswith(("- [x]", "- [ ]"))
            for review in human.reviews(pull["number"])
            for line in (review.get("body") or "").splitlines()
        )
        checks = human.check_runs(pull["head"]["sha"], "repocrew / tests")
        summary.check_conclusion = checks[0]["conclusion"] if checks else None
    _standup(engine, chat, say)
    hub.webhooks.wait_idle(5)
    transcript = chat.transcript()
    summary.slack_posts = sum(1 + len(post.replies) for c in transcript for post in c.posts)
    summary.standup_posts = sum(
        1 + len(post.replies) for c in transcript for post in c.posts if _is_standup(post)
    )
    summary.transcript = chat.render_transcript()
    human.close()
    return summary


def _is_standup(post: Any) -> bool:
    return post.text.lstrip().startswith(("🗓️ *Standup", "🗓️ Standup", "Standup"))


def _standup(engine, chat, say, timeout: float = 30.0) -> None:
    """The lead holds today's standup in #crew now, built from what the run really did."""
    from datetime import UTC, datetime, timedelta

    from bot.roster.loader import load_crew
    from bot.standups.run import hold_standup

    crew = load_crew(None)
    channel = crew.channel or "#crew"
    # Held as tomorrow morning's standup, so the run just played counts as "yesterday".
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    result = hold_standup(engine, crew, channel=channel, now=tomorrow, force=True)
    say(f"the team lead holds today's standup in {channel} ({result.outcome})")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:  # the outbox job posts it at Slack's pace
        posts = [p for c in chat.transcript() for p in c.posts if _is_standup(p)]
        if posts and 1 + len(posts[0].replies) >= result.messages:
            return
        time.sleep(0.2)
