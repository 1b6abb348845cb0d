"""`repocrew demo`: a whole team run with no accounts, against the three emulators on loopback.

GitHub, Slack and the Anthropic API are emulated; repocrew itself is the real thing (its web
app, worker, store, sandbox and git). A sample Python repository gets an issue, a human labels
it, and the crew plans, researches, codes, reviews, fixes, tests and votes, posting under its
personas. The summary is read back from the emulators and the store, not from repocrew's
memory. Without a sandbox the tester reports the tests as not run and the run goes on.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.roster.loader import roster_text
from bot.settings import Settings
from bot.store.runs import outputs, update_run, votes
from repocrew import demo_session
from repocrew.demo_report import Story, story_of
from repocrew.world import HUMAN_TOKEN, World, emulated_world

REPO = "octo-org/ages"
# The demo's crew: the packaged default, going on to the votes where no sandbox is available.
SKIP = ("skip_without_sandbox = false", "skip_without_sandbox = true")


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
    run_id: int | None = None
    story: Story = field(default_factory=Story)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for shown_only in ("transcript", "run_id", "story"):
            data.pop(shown_only)
        return data


def demo_crew_text() -> str:
    text = roster_text("default")
    if SKIP[0] not in text:
        raise RuntimeError("the default roster no longer says skip_without_sandbox = false")
    return text.replace(*SKIP)


def run_demo(
    *,
    live_model: Settings | None = None,
    timeout: float = 240.0,
    say: Callable[[str], None] = lambda _line: None,
    keep: Path | None = None,
    host: str = "127.0.0.1",
    port: int | None = None,
    bwrap: str = "bwrap",
    then: Callable[[World, DemoSummary], None] | None = None,
) -> DemoSummary:
    """Run the demo in a temporary directory, or in `keep` (kept); `live_model` (settings with
    a key) uses the API. `then` runs while the world is still up (to serve what it made)."""
    with _home(keep) as root:
        crew_file = root / "crew.toml"
        crew_file.write_text(demo_crew_text(), encoding="utf-8")
        with emulated_world(
            repo=REPO,
            files=demo_session.sample_files(),
            script=demo_session.whole_run_script(),
            root=root,
            live_model=live_model,
            host=host,
            port=port,
            overrides={
                "crew_file": crew_file,
                "sandbox_bwrap": bwrap,
                "dashboard_token": secrets.token_urlsafe(32),
            },
        ) as world:
            say("GitHub, Slack and the model are emulated; repocrew listens on loopback")
            summary = _play(world, timeout, say)
            if keep is not None and summary.run_id is not None:
                _keep_repository(world, summary.run_id, root)
            if then is not None:
                then(world, summary)
            return summary


@contextmanager
def _home(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep.resolve()
        return
    with tempfile.TemporaryDirectory(prefix="repocrew-demo-") as directory:
        yield Path(directory)


def _keep_repository(world: World, run_id: int, root: Path) -> None:
    """A mirror of the sample repository beside the store, and the run pointed at it, so that
    `repocrew replay` finds the repository after the emulated GitHub is gone."""
    mirror = root / "ages.git"
    shutil.rmtree(mirror, ignore_errors=True)
    subprocess.run(
        ["git", "-c", f"http.extraHeader=Authorization: token {HUMAN_TOKEN}"]
        + ["clone", "--quiet", "--mirror", f"{world.hub_url}/{world.repo}.git", str(mirror)],
        check=True,
        capture_output=True,
    )
    update_run(world.engine, run_id=run_id, clone_url=str(mirror))


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
    summary.run_id, summary.reason = run.id, run.reason
    summary.votes = {vote.role: vote.decision for vote in votes(engine, run.id or 0)}
    pull = human.first_pull()
    files: list[dict[str, Any]] = []
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
        files = human.pull_files(pull["number"])
    summary.story = story_of(outputs(engine, run.id or 0), files)
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
