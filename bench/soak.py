"""Soak benchmark: a sustained stream of signed GitHub and Slack requests, drained by a worker.

The GitHub and Slack emulators run in this process; repocrew runs as a real process beside
them: `repocrew serve` (web, one worker and the scheduler) on a fresh SQLite file, or, with
`--database-url postgresql://…`, `repocrew web` and `repocrew worker` apart, as the README's
"Running at scale" says. For `--seconds` the script fires `--rate` requests per second on a
fixed schedule (open loop: a slow answer does not slow the stream), a mix of

* GitHub events from the shared corpus (`issues`, `pull_request`, `issue_comment`, `push`,
  `create`, `label`, …), each signed as GitHub signs it, with its own X-GitHub-Delivery;
* `/crew status` comments on GitHub, each on its own issue: the App answers each with one
  comment on that issue (the issue number maps a reply to the event that asked for it);
* `/crew status <n>` slash commands through the Slack emulator (signed as Slack signs them),
  each with its own number: the answer is one ephemeral message naming that number.

It samples the job queue meanwhile (the age of the oldest job that is due and not yet
claimed), waits for the queue to drain, then counts from the store and the emulators:
`lost` is a GitHub delivery answered 2xx but missing from the store or never worked, or an
ask never answered; `duplicated_side_effects` is every answer beyond the first to one ask,
and every second job for one delivery. Target: `lost=0 duplicated_side_effects=0`. The last
line is machine-readable; the exit status is 1 unless both are zero:

    soak: events=<n> lost=<n> duplicated_side_effects=<n> p99_ms=<n> max_queue_age_s=<n>

    .venv/bin/python bench/soak.py                 # 300 s at 10 requests/s
    .venv/bin/python bench/soak.py --short         # 30 s (what the test suite runs)
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bot.store.engine import make_engine  # noqa: E402
from bot.store.models import Delivery, Job, JobStatus  # noqa: E402
from emulators.github import GitHubEmulator  # noqa: E402
from emulators.github import create_app as github_app  # noqa: E402
from emulators.github.hookshot import Delivery as Hook  # noqa: E402
from emulators.github.hookshot import headers as hook_headers  # noqa: E402
from emulators.server import free_port, running  # noqa: E402
from emulators.slack import DEFAULT_SIGNING_SECRET, DEFAULT_TOKEN, Policy, SlackEmulator  # noqa: E402
from emulators.slack import create_app as slack_app  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "github-webhooks" / "examples"
EVENTS = ("issues", "pull_request", "issue_comment", "push", "create", "delete", "label", "star")
SECRET = "soak-webhook-secret"
REPO = "octo-org/ages"
SHARE_GITHUB_ASK = 0.1  # of the stream: `/crew status` comments
SHARE_SLACK_ASK = 0.1  # of the stream: `/crew status <n>` slash commands
SLACK_ASK_BASE = 900_000  # the numbers Slack asks about: no run has them
NO_RUN = re.compile(r"There is no run `(\d+)`")


@dataclass
class Tally:
    """What was sent and how it was answered."""

    latencies_ms: list[float] = field(default_factory=list)
    accepted: set[str] = field(default_factory=set)  # GitHub delivery ids answered 2xx
    github_asks: list[int] = field(default_factory=list)  # issue numbers asked on, 2xx
    slack_asks: list[int] = field(default_factory=list)  # numbers asked about, 2xx
    refused: Counter = field(default_factory=Counter)  # non-2xx answers by kind
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, started: float, ok: bool, kind: str, key: object) -> None:
        with self.lock:
            self.latencies_ms.append((time.perf_counter() - started) * 1000)
            if not ok:
                self.refused[kind] += 1
            elif kind == "github":
                self.accepted.add(str(key))
            elif kind == "github-ask":
                self.accepted.add(str(key[0]))  # type: ignore[index]
                self.github_asks.append(key[1])  # type: ignore[index]
            else:
                self.slack_asks.append(int(key))  # type: ignore[arg-type]


def corpus_payloads() -> list[tuple[str, dict]]:
    """(event, payload) for every example of the chosen events in the shared corpus, as the
    App would get it: about the soak repository, through its installation (GitHub names the
    installation in every App delivery; some corpus examples are repository webhooks)."""
    found = []
    for event in EVENTS:
        for path in sorted((CORPUS / event).glob("*.json")):
            payload = json.loads(path.read_text())
            if "repository" in payload:
                payload["repository"] |= {"full_name": REPO, "name": REPO.split("/")[1]}
            payload["installation"] = {"id": 1}
            found.append((event, payload))
    if not found:
        raise SystemExit(f"no webhook examples under {CORPUS}: the shared corpus is needed")
    return found


def status_comment(template: dict, issue: int, comment_id: int) -> dict:
    """An `issue_comment` `created` asking `/crew status` on `issue` of the soak repository."""
    payload = json.loads(json.dumps(template))
    payload["issue"] |= {"number": issue, "pull_request": None}
    payload["issue"].pop("pull_request")
    payload["comment"] |= {"id": comment_id, "body": "/crew status"}
    payload["sender"] = {"login": "octocat", "id": 583231, "type": "User"}
    payload["repository"] |= {"full_name": REPO, "name": REPO.split("/")[1]}
    payload["installation"] = {"id": 1}
    return payload


def signed(event: str, payload: dict, guid: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload, separators=(",", ":")).encode()
    hook = Hook(guid, event, payload.get("action"), payload, body, 1, "integration", 1)
    return body, hook_headers(hook, SECRET)


def start_repocrew(args, env: dict[str, str], port: int, logs: Path) -> list[subprocess.Popen]:
    repocrew = str(Path(sys.executable).with_name("repocrew"))
    split = args.database_url.startswith("postgresql")
    commands = (
        [["web", "--host", "127.0.0.1", "--port", str(port)], ["worker"]]
        if split
        else [["serve", "--host", "127.0.0.1", "--port", str(port)]]
    )
    return [
        subprocess.Popen(
            [repocrew, *command],
            cwd=logs,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(logs / f"{command[0]}.log").open("w"),
        )
        for command in commands
    ]


def wait_ready(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"repocrew did not become ready at {url}")


def wait_linked(chat: SlackEmulator, timeout: float = 60) -> None:
    """Slack's `/crew status <n>` names the run only to a linked user: wait for the link."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with chat.lock:
            if any(e.text.startswith("Linked:") for e in chat.workspace.ephemerals):
                return
        time.sleep(0.1)
    raise SystemExit("/crew link octocat was never answered")


class QueueWatch:
    """Samples the age of the oldest due, unclaimed job until stopped."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.max_age = 0.0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.25):
            self.max_age = max(self.max_age, queue_age(self.engine))

    def __enter__(self) -> QueueWatch:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop.set()
        self.thread.join(5)


def queue_age(engine) -> float:
    now = datetime.now(timezone.utc)  # noqa: UP017 - the store's clock is UTC too
    with engine.connect() as connection:
        oldest = connection.execute(
            select(func.min(Job.run_after)).where(
                Job.status == JobStatus.QUEUED, Job.run_after <= now
            )
        ).scalar()
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=timezone.utc)  # noqa: UP017
    return max(0.0, (now - oldest).total_seconds())


def busy_jobs(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(
            select(func.count()).where(Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
        ).scalar_one()


def fire(args, url: str, chat: SlackEmulator, issues: list[int], tally: Tally) -> int:
    """The stream: one request every 1/rate s for `seconds`, whatever the answers take."""
    rng = random.Random(args.seed)
    payloads = corpus_payloads()
    template = next(p for e, p in payloads if e == "issue_comment" and p["action"] == "created")
    free_issues = iter(issues)
    comment_ids = itertools.count(10**9)
    slack_numbers = itertools.count(SLACK_ASK_BASE)
    total = int(args.rate * args.seconds)
    client = httpx.Client(timeout=30, limits=httpx.Limits(max_connections=args.connections))

    def send_github(event: str, payload: dict, kind: str, key: object) -> None:
        guid = str(uuid.uuid4())
        body, headers = signed(event, payload, guid)
        started = time.perf_counter()
        try:
            status = client.post(f"{url}/github/webhook", content=body, headers=headers).status_code
        except httpx.HTTPError:
            status = 0
        tally.record(started, 200 <= status < 300, kind, (guid, key) if key else guid)

    def send_slack(number: int) -> None:
        started = time.perf_counter()
        try:
            status = chat.send_command(f"status {number}").status_code
        except httpx.HTTPError:
            status = 0
        tally.record(started, 200 <= status < 300, "slack", number)

    began = time.perf_counter()
    with ThreadPoolExecutor(args.connections) as pool:
        for index in range(total):
            delay = began + index / args.rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            draw = rng.random()
            if draw < SHARE_SLACK_ASK:
                pool.submit(send_slack, next(slack_numbers))
            elif draw < SHARE_SLACK_ASK + SHARE_GITHUB_ASK and (issue := next(free_issues, None)):
                payload = status_comment(template, issue, next(comment_ids))
                pool.submit(send_github, "issue_comment", payload, "github-ask", issue)
            else:
                event, payload = payloads[rng.randrange(len(payloads))]
                pool.submit(send_github, event, payload, "github", None)
    client.close()
    return total


def settle(engine, hub, chat, tally: Tally, timeout: float) -> float:
    """Wait for the queue to drain and every ask to be answered; returns the seconds waited."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        answered = github_replies(hub, tally.github_asks)
        if (
            not busy_jobs(engine)
            and sum(1 for n in tally.github_asks if answered[n]) == len(tally.github_asks)
            and set(tally.slack_asks) <= set(slack_replies(chat))
        ):
            break
        time.sleep(0.5)
    time.sleep(1.0)  # a late duplicate would land now
    return time.monotonic() - began


def github_replies(hub: GitHubEmulator, asked: list[int]) -> Counter:
    """The App's comments per issue (only the asks' issues have any)."""
    repo = hub.repo(REPO)
    counts: Counter = Counter()
    wanted = set(asked)
    for number in wanted:
        issue = repo.issues.get(number)
        for comment in list(issue.comments) if issue else []:
            if comment.user.login.endswith("[bot]"):
                counts[number] += 1
    return counts


def slack_replies(chat: SlackEmulator) -> list[int]:
    """The numbers the ephemeral answers name, one entry per answer."""
    with chat.lock:
        texts = [e.text for e in chat.workspace.ephemerals]
    return [int(m.group(1)) for text in texts if (m := NO_RUN.search(text))]


def audit(engine, tally: Tally) -> tuple[int, int]:
    """(lost, duplicated) GitHub deliveries: missing or unworked, and worked twice."""
    with engine.connect() as connection:
        stored = dict(
            connection.execute(
                select(Delivery.delivery_id, Delivery.id).where(Delivery.source == "github")
            ).all()
        )
        jobs = dict(
            connection.execute(
                select(Job.delivery_id, func.count())
                .where(Job.delivery_id.is_not(None), Job.status == JobStatus.DONE)
                .group_by(Job.delivery_id)
            ).all()
        )
        queued = set(
            connection.execute(
                select(Delivery.delivery_id).where(
                    Delivery.source == "github", Delivery.outcome == "queued"
                )
            ).scalars()
        )
    lost = sum(
        1
        for guid in tally.accepted
        if guid not in stored or (guid in queued and not jobs.get(stored[guid]))
    )
    duplicated = sum(count - 1 for count in jobs.values() if count > 1)
    return lost, duplicated


def dead_jobs(engine) -> dict[str, int]:
    """Jobs that gave up, by kind and first line of the error (what to look at first)."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(Job.kind, Job.last_error).where(Job.status == JobStatus.DEAD)
        ).all()
    return dict(
        Counter(f"{kind}: {(error or '').strip().splitlines()[-1:]}" for kind, error in rows)
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=10.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=300.0, help="how long to fire")
    parser.add_argument("--short", action="store_true", help="30 s: the test suite's form")
    parser.add_argument("--connections", type=int, default=8, help="concurrent senders")
    parser.add_argument("--seed", type=int, default=8, help="the mix's random seed")
    parser.add_argument("--drain-timeout", type=float, default=120.0)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    args = parser.parse_args()
    if args.short:
        args.seconds = 30.0

    work = Path(tempfile.mkdtemp(prefix="repocrew-soak-"))
    args.database_url = args.database_url or f"sqlite:///{work / 'soak.db'}"
    if args.database_url.startswith("postgresql://"):
        args.database_url = "postgresql+psycopg://" + args.database_url.removeprefix(
            "postgresql://"
        )
    hub = GitHubEmulator.with_defaults()
    hub.create_repo(REPO, collaborators={"octocat": "admin"})
    asks = int(args.rate * args.seconds * SHARE_GITHUB_ASK * 1.5) + 10
    chat = SlackEmulator(rate_limits={"chat.postMessage": Policy(1000, burst=1000, per="channel")})
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with ExitStack() as stack:
        hub_url = stack.enter_context(running(github_app(hub)))
        slack_url = stack.enter_context(running(slack_app(chat)))
        hub.base_url = hub_url
        issues = create_issues(hub_url, asks)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("REPOCREW_", "ANTHROPIC"))}
        env |= {
            "REPOCREW_DATABASE_URL": args.database_url,
            "REPOCREW_GITHUB_WEBHOOK_SECRET": SECRET,
            "REPOCREW_GITHUB_APP_ID": "1",
            "REPOCREW_GITHUB_PRIVATE_KEY": hub.apps[1].private_key_pem.decode(),
            "REPOCREW_GITHUB_API_URL": hub_url,
            "REPOCREW_SLACK_BOT_TOKEN": DEFAULT_TOKEN,
            "REPOCREW_SLACK_API_URL": f"{slack_url}/api/",
            "REPOCREW_SLACK_SIGNING_SECRET": DEFAULT_SIGNING_SECRET,
            "REPOCREW_WORK_DIR": str(work / "work"),
            "REPOCREW_WORKER_POLL_SECONDS": "0.05",
            "REPOCREW_LOG_LEVEL": "WARNING",
        }
        if not args.database_url.startswith("sqlite"):
            from bot.store.migrate import upgrade

            upgrade(make_engine(args.database_url))  # once, before two processes race to
        processes = start_repocrew(args, env, port, work)
        for process in processes:
            stack.callback(stop, process)
        wait_ready(url)
        chat.app_url = url
        engine = make_engine(args.database_url)
        stack.callback(engine.dispose)
        link = chat.send_command("link octocat")
        if link.status_code != 200:
            raise SystemExit(f"/crew link was refused: {link.status_code} {link.text}")
        wait_linked(chat)

        tally = Tally()
        print(
            f"soak: {args.rate:g} requests/s for {args.seconds:g} s against {url} "
            f"({'web + worker' if len(processes) > 1 else 'serve'}, "
            f"{args.database_url.split(':', 1)[0]})"
        )
        with QueueWatch(engine) as watch:
            sent = fire(args, url, chat, issues, tally)
            waited = settle(engine, hub, chat, tally, args.drain_timeout)
        max_age = watch.max_age

        lost_events, twice_worked = audit(engine, tally)
        replies = github_replies(hub, tally.github_asks)
        answers = Counter(slack_replies(chat))
        losses = {
            "events": lost_events,
            "github_asks": sum(1 for n in tally.github_asks if not replies[n]),
            "slack_asks": sum(1 for n in tally.slack_asks if not answers[n]),
            "refused": sum(tally.refused.values()),  # an ask the app refused got lost
        }
        duplicates = {
            "jobs": twice_worked,
            "github_replies": sum(count - 1 for count in replies.values() if count > 1),
            "slack_replies": sum(count - 1 for count in answers.values() if count > 1),
        }
        lost, duplicated = sum(losses.values()), sum(duplicates.values())
        failed = dead_jobs(engine)
        p99 = percentile(tally.latencies_ms, 0.99)

    print(
        f"sent {sent}: {len(tally.accepted) - len(tally.github_asks)} GitHub events, "
        f"{len(tally.github_asks)} GitHub /crew status, {len(tally.slack_asks)} Slack /crew "
        f"status; refused {dict(tally.refused) or 0}"
    )
    print(f"lost {losses}; duplicated {duplicates}; dead jobs {failed or 0}")
    print(
        f"latency ms: p50={percentile(tally.latencies_ms, 0.5):.1f} "
        f"p99={p99:.1f} max={max(tally.latencies_ms, default=0):.1f}; drained in {waited:.1f} s"
    )
    print(
        f"soak: events={sent} lost={lost} duplicated_side_effects={duplicated} "
        f"p99_ms={p99:.0f} max_queue_age_s={max_age:.1f}"
    )
    if lost or duplicated:
        print(f"repocrew's logs: {work}")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    return 0


def create_issues(hub_url: str, count: int) -> list[int]:
    """Issues for the `/crew status` asks, one each, made through the REST API."""
    headers = {"Authorization": "token ghp_octocat", "Accept": "application/vnd.github+json"}
    with httpx.Client(base_url=hub_url, headers=headers, timeout=30) as client:
        return [
            client.post(f"/repos/{REPO}/issues", json={"title": f"Soak question {n}"}).json()[
                "number"
            ]
            for n in range(count)
        ]


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


if __name__ == "__main__":
    sys.exit(main())
