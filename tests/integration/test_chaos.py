"""Process chaos: SIGKILL the web, a worker or the scheduler at random moments of a scripted
workload; every run still ends as it does without faults, and the audit log has every delivery.

"50 iterations" is read as 50 kill events over one scripted workload (not 50 whole workloads,
which would take an hour): a seeded monkey picks a victim among `web`, `worker` and
`scheduler` and a pause before each kill, SIGKILLs it and restarts it at once (the web on the
same port, without waiting for it to be ready: the next kill may catch a process starting).
While the web is down GitHub's deliveries fail; like an operator (or GitHub's automatic
redelivery) the monkey redelivers the failed ones after every kill, and the test does until
everything has settled. Two workers run, as at scale-out, so a killed one's run moves over.

The processes are the real `repocrew web`, `repocrew worker` and `repocrew scheduler`
commands on PostgreSQL, the store README's "Running at scale" names for running the parts
apart (SQLite is documented for one `serve` process). They are forked from a pre-imported
parent (tests/support/chaos.py) so that fifty restarts cost milliseconds, not minutes of CPU.
GitHub, Slack and the model are the emulators, in this process.

The expectation is measured, not assumed: the first team run goes through with no faults, and
its footprint (run state, comments by marker, pull request, commits, reviews, check runs,
statuses, Slack thread, model-call ledger) is what every run under chaos must match exactly.
"""

from __future__ import annotations

import logging
import os
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import github
import httpx
import pytest
from sqlalchemy import func, select

from bot.sandbox import sandbox_status
from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from bot.store.models import (
    Delivery,
    Job,
    JobStatus,
    ModelCall,
    Run,
    SlackMessage,
    SlackMessageStatus,
)
from emulators.anthropic import AnthropicEmulator
from emulators.anthropic import create_app as anthropic_app
from emulators.github import GitHubEmulator
from emulators.github import create_app as github_app
from emulators.server import free_port, running
from emulators.slack import DEFAULT_SIGNING_SECRET, DEFAULT_TOKEN, Policy, SlackEmulator
from emulators.slack import create_app as slack_app
from repocrew import demo_session
from tests.conftest import GITHUB_SECRET
from tests.support.chaos import Forker

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.fleet,  # processes killed at random: beside the other chaos test, not the rest
    pytest.mark.skipif(
        not sandbox_status().available, reason=f"no sandbox: {sandbox_status().reason}"
    ),
]

log = logging.getLogger(__name__)
SEED = 20261123
KILLS = 50
PAUSE = (0.2, 1.2)  # seconds between kills: 50 kills in under a minute
VICTIMS = ("web", "worker", "scheduler")
WORKERS = ("worker-1", "worker-2")  # two, as at scale-out: a killed one's run moves over
PROCESSES = ("web", *WORKERS, "scheduler")
KEY = "sk-ant-test-emulator-key-0008"
REPO = "octo-org/ages"
# The tester stays real (bubblewrap, the repository's pytest); only pytest's plugin autoload is
# off, because this venv's test plugins would cost seven seconds per sandboxed test run.
FAST_TESTS = (
    "[tests]\ncommand = ['env', 'PYTEST_DISABLE_PLUGIN_AUTOLOAD=1', 'python', '-m', 'pytest', "
    "'-q', '-rfE', '--color=no', '-p', 'no:cacheprovider']\n"
)
MARKER = re.compile(r"<!-- repocrew:run=\d+ step=(\S+) -->")
SETTLED = {"awaiting_human", "done", "failed", "stopped", "budget_exhausted"}


@dataclass
class Crew:
    """The processes under test and the emulated world around them."""

    forker: Forker
    port: int
    hub: GitHubEmulator
    chat: SlackEmulator
    engine: Any
    human: github.Github
    kills: Counter = field(default_factory=Counter)
    events: list[str] = field(default_factory=list)  # when what was killed, for a failure
    began: float = field(default_factory=time.monotonic)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, name: str) -> None:
        if name == "web":
            self.forker.start(name, "web", "--host", "127.0.0.1", "--port", str(self.port))
        else:
            self.forker.start(name, name.split("-")[0])

    def restart(self, name: str) -> None:
        self.forker.kill(name)
        deadline = time.monotonic() + 5
        while self.forker.alive(name) and time.monotonic() < deadline:
            time.sleep(0.02)  # the port is free once the parent has reaped it
        self.kills[name.split("-")[0]] += 1
        self.events.append(f"{time.monotonic() - self.began:.1f}s kill {name}")
        self.start(name)

    def web_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"the web did not come back:\n{self.forker.log('web')[-3000:]}")

    def redeliver_failed(self) -> int:
        """Redeliver each delivery whose latest attempt failed, as an operator would."""
        latest = {d.guid: d for d in self.hub.webhooks.deliveries}
        failed = [d for d in latest.values() if d.error is not None or (d.status or 200) >= 300]
        for delivery in failed:
            self.hub.webhooks.redeliver(delivery)
        return len(failed)

    def undelivered(self) -> list[str]:
        latest = {d.guid: d for d in self.hub.webhooks.deliveries}
        return [g for g, d in latest.items() if d.status is None or d.status >= 300]

    def runs(self) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(select(Run).order_by(Run.id)).all())


@pytest.fixture
def crew(postgres_url, tmp_path) -> Iterator[Crew]:
    hub = GitHubEmulator.with_defaults()
    hub.create_repo(
        REPO,
        files={**demo_session.sample_files(), ".repocrew.toml": FAST_TESTS},
        collaborators={"octocat": "admin"},
    )
    model = AnthropicEmulator(demo_session.whole_run_script())
    chat = SlackEmulator(rate_limits={"chat.postMessage": Policy(100, burst=100, per="channel")})
    ports = {name: free_port() for name in ("hub", "model", "slack", "web")}
    hub_url, model_url, slack_url = (
        f"http://127.0.0.1:{ports[n]}" for n in ("hub", "model", "slack")
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPOCREW_", "ANTHROPIC"))}
    env |= {
        "REPOCREW_DATABASE_URL": postgres_url,
        "REPOCREW_GITHUB_WEBHOOK_SECRET": GITHUB_SECRET,
        "REPOCREW_GITHUB_APP_ID": "1",
        "REPOCREW_GITHUB_PRIVATE_KEY": hub.apps[1].private_key_pem.decode(),
        "REPOCREW_GITHUB_API_URL": hub_url,
        "ANTHROPIC_API_KEY": KEY,
        "REPOCREW_ANTHROPIC_BASE_URL": model_url,
        "REPOCREW_SLACK_BOT_TOKEN": DEFAULT_TOKEN,
        "REPOCREW_SLACK_API_URL": f"{slack_url}/api/",
        "REPOCREW_SLACK_SIGNING_SECRET": DEFAULT_SIGNING_SECRET,
        "REPOCREW_WORK_DIR": str(tmp_path / "work"),
        # A killed worker's job is taken over once its lease runs out: keep that short.
        "REPOCREW_JOB_LEASE_SECONDS": "2",
        "REPOCREW_WORKER_POLL_SECONDS": "0.1",
        "REPOCREW_JOB_BACKOFF_SECONDS": "0.2",
        # Every kill of a worker costs its job an attempt; fifty kills must not kill a run.
        "REPOCREW_JOB_MAX_ATTEMPTS": "100",
    }
    (tmp_path / "logs").mkdir()
    engine = make_engine(postgres_url)
    with ExitStack() as stack:
        forker = Forker(env, tmp_path / "logs", tmp_path)  # imports while the world starts
        stack.callback(forker.close)
        upgrade(engine)  # once, before four processes would race to migrate
        stack.enter_context(running(github_app(hub), port=ports["hub"]))
        stack.enter_context(running(anthropic_app(model), port=ports["model"]))
        stack.enter_context(running(slack_app(chat), port=ports["slack"]))
        hub.base_url = hub_url
        human = github.Github(base_url=hub_url, auth=github.Auth.Token("ghp_octocat"))
        stack.callback(human.close)
        world = Crew(forker, ports["web"], hub, chat, engine, human)
        for name in PROCESSES:
            world.start(name)
        world.web_ready()
        hub.webhooks.configure(f"{world.url}/github/webhook", GITHUB_SECRET)
        yield world
    engine.dispose()


def _chaos(crew: Crew, done: threading.Event, errors: list[BaseException]) -> None:
    """The monkey: KILLS seeded kills, each followed by a restart and the redelivery sweep.

    It does not wait for a restarted process to be ready: the next kill may catch it starting.
    """
    rng = random.Random(SEED)
    try:
        for _ in range(KILLS):
            time.sleep(rng.uniform(*PAUSE))
            victim = rng.choice(VICTIMS)
            crew.restart(rng.choice(WORKERS) if victim == "worker" else victim)
            crew.redeliver_failed()
    except BaseException as error:  # reported by the test
        errors.append(error)
    finally:
        done.set()


def _task(repo, letter: str):
    return repo.create_issue(f"{demo_session.TASK_TITLE} ({letter})", body=demo_session.TASK_BODY)


def _wait_settled(crew: Crew, runs: int, timeout: float) -> None:
    """Until every run has settled, every delivery got through and the queue is empty."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        crew.hub.webhooks.wait_idle(5)
        crew.redeliver_failed()
        found = crew.runs()
        with crew.engine.connect() as connection:
            busy = connection.execute(
                select(func.count()).where(
                    Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]),
                    Job.kind != "standup.check",
                )
            ).scalar_one()
            busy += connection.execute(
                select(func.count()).where(SlackMessage.status == SlackMessageStatus.QUEUED)
            ).scalar_one()
        if (
            len(found) == runs
            and all(r.state in SETTLED for r in found)
            and not busy
            and not crew.undelivered()
        ):
            return
        time.sleep(0.3)
    raise AssertionError(
        f"not settled: runs {[(r.id, r.state, r.reason) for r in crew.runs()]}, "
        f"undelivered {crew.undelivered()}; kills: {crew.events}; jobs: {_unfinished(crew)}"
    )


def _unfinished(crew: Crew) -> list[Any]:
    with crew.engine.connect() as connection:
        return connection.execute(
            select(Job.id, Job.kind, Job.status, Job.attempts, Job.args).where(
                Job.status != JobStatus.DONE
            )
        ).all()


def footprint(crew: Crew, run: Any) -> dict[str, Any]:
    """Everything a run left on GitHub, in Slack and in the ledger, free of ids and numbers."""
    repo = crew.human.get_repo(REPO)
    issue = repo.get_issue(run.issue_number)
    pulls = [p for p in repo.get_pulls(state="all") if p.head.ref == run.branch]
    found: dict[str, Any] = {
        "state": run.state,
        "issue_posts": sorted(k for k in _kinds(issue.get_comments()) if k != "reply"),
        "pulls": len(pulls),
    }
    if pulls:
        (pull,) = pulls
        head = repo.get_commit(pull.head.sha)
        found |= {
            "draft": pull.draft,
            "commits": [c.commit.author.name for c in pull.get_commits()],
            "reviews": [(r.user.login, r.state) for r in pull.get_reviews()],
            "review_comments": pull.get_review_comments().totalCount,
            "pull_posts": sorted(_kinds(pull.get_issue_comments())),
            "checks": sorted((c.name, c.status, c.conclusion) for c in head.get_check_runs()),
            # Setting a status again with the same state is how GitHub updates one.
            "statuses": sorted({(s.context, s.state) for s in head.get_statuses()}),
        }
    with crew.engine.connect() as connection:
        opened = connection.execute(
            select(SlackMessage.ts).where(SlackMessage.key == f"run:{run.id}:open")
        ).scalar()
    # The run's thread as Slack shows it, and every top-level post naming the run's issue (a
    # second one would be a duplicate thread).
    posts = crew.chat.channel_transcript("#crew").posts
    openers = [p for p in posts if p.text.endswith(f"{REPO}#{issue.number}")]
    thread = [p for p in posts if p.ts == opened]
    replies, reposted = _without_reposts([r for p in thread for r in p.replies])
    found["slack"] = [[p.shown_as, [r.shown_as for r in replies]] for p in thread]
    found["slack_threads"] = len({(p.shown_as, p.text) for p in openers})
    found["slack_reposts"] = reposted + len(openers) - found["slack_threads"]
    with crew.engine.connect() as connection:
        found["model_calls"] = connection.execute(
            select(func.count()).where(ModelCall.run_id == run.id)
        ).scalar_one()
    return found


def _without_reposts(replies: list) -> tuple[list, int]:
    """The replies with each exact repeat of the one before dropped, and how many were."""
    kept: list = []
    for reply in replies:
        if kept and (kept[-1].shown_as, kept[-1].text) == (reply.shown_as, reply.text):
            continue
        kept.append(reply)
    return kept, len(replies) - len(kept)


def _kinds(comments) -> list[str]:
    """Each bot post by its step marker (a duplicate shows as a repeated entry)."""
    kinds = []
    for comment in comments:
        if comment.user.login != "repocrew[bot]":
            continue
        marker = MARKER.search(comment.body)
        kinds.append(marker.group(1) if marker else "reply")
    return kinds


@pytest.mark.timeout(300)  # about 100 s on two busy cores; the margin is for a busier CI
def test_fifty_kills_change_no_outcome_and_lose_no_delivery(crew):
    repo = crew.human.get_repo(REPO)

    # The reference: one run with no faults at all.
    reference_issue = _task(repo, "reference")
    reference_issue.add_to_labels("crew")
    _wait_settled(crew, runs=1, timeout=90)
    (reference,) = crew.runs()
    expected = footprint(crew, reference)
    assert expected.pop("slack_reposts") == 0
    assert expected["state"] == "awaiting_human", reference.reason
    assert expected["pulls"] == expected["slack_threads"] == 1, expected
    assert expected["checks"] and expected["slack"][0][1], expected

    # The same script under chaos: two labelled issues, a `/crew go`, and `/crew status` asks.
    errors: list[BaseException] = []
    monkey_done = threading.Event()
    monkey = threading.Thread(target=_chaos, args=(crew, monkey_done, errors), daemon=True)
    monkey.start()
    for letter, start in (("b", "label"), ("c", "label"), ("d", "/crew go")):
        issue = _task(repo, letter)
        if start == "label":
            issue.add_to_labels("crew")
        else:
            issue.create_comment(start)
        time.sleep(4)
    asked = _task(repo, "question")
    asked.create_comment("/crew status")
    reference_issue.create_comment("/crew status")
    assert monkey_done.wait(180), "the monkey did not finish"
    assert not errors, errors
    for name in PROCESSES:  # the last kill may have been right before the end
        if not crew.forker.alive(name):
            crew.start(name)
    _wait_settled(crew, runs=4, timeout=150)

    assert sum(crew.kills.values()) == KILLS
    assert set(crew.kills) == set(VICTIMS), crew.kills
    reposts = 0
    for run in crew.runs():
        found = footprint(crew, run)
        reposts += found.pop("slack_reposts")
        assert found == expected, (run.id, run.reason)
    # A worker killed between Slack taking a post and the store recording it leaves the post in
    # doubt; the next drain finds it by the key in its metadata instead of posting it again.
    lookups = [c for c in crew.chat.calls if c.method.startswith("conversations.")]
    log.info("Slack: %d posts repeated; %d lookups of posts in doubt", reposts, len(lookups))
    assert reposts == 0, f"{reposts} Slack posts repeated"
    # Each `/crew status` was answered once (a reply is the only post without a marker).
    assert _kinds(asked.get_comments()) == ["reply"]
    assert _kinds(reference_issue.get_comments()).count("reply") == 1

    # The audit log: every delivery GitHub got through is stored once, with at most one job,
    # and every job that work was queued for ran to its end.
    delivered = {d.guid for d in crew.hub.webhooks.deliveries if d.status and d.status < 300}
    with crew.engine.connect() as connection:
        stored = dict(
            connection.execute(
                select(Delivery.delivery_id, Delivery.outcome).where(Delivery.source == "github")
            ).all()
        )
        jobs = connection.execute(
            select(Job.delivery_id, func.count(), func.min(Job.status))
            .where(Job.delivery_id.is_not(None))
            .group_by(Job.delivery_id)
        ).all()
        dead = connection.execute(
            select(Job.kind, Job.last_error).where(
                Job.status == JobStatus.DEAD, Job.kind != "standup.check"
            )
        ).all()
    assert delivered <= set(stored), delivered - set(stored)
    assert all(count == 1 and status == JobStatus.DONE for _, count, status in jobs), jobs
    assert sum(outcome == "queued" for outcome in stored.values()) == len(jobs)
    assert dead == [], _unfinished(crew)
