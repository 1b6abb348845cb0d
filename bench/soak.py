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
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.soak_counts import QueueWatch, dead_jobs, losses_and_duplicates, percentile, settle  # noqa: E402
from bench.soak_stream import REPO, SECRET, SHARE_GITHUB_ASK, Tally, fire  # noqa: E402
from bot.store.engine import make_engine  # noqa: E402
from emulators.github import GitHubEmulator  # noqa: E402
from emulators.github import create_app as github_app  # noqa: E402
from emulators.server import free_port, running  # noqa: E402
from emulators.slack import DEFAULT_SIGNING_SECRET, DEFAULT_TOKEN, Policy, SlackEmulator  # noqa: E402
from emulators.slack import create_app as slack_app  # noqa: E402


@dataclass
class Outcome:
    """What one soak sent, and what it counted afterwards."""

    sent: int
    tally: Tally
    losses: dict[str, int]
    duplicates: dict[str, int]
    failed: dict[str, int]  # dead jobs by kind and error
    waited: float  # seconds the drain took
    max_queue_age: float


def main() -> int:
    args = parse_args()
    work = Path(tempfile.mkdtemp(prefix="repocrew-soak-"))
    args.database_url = args.database_url or f"sqlite:///{work / 'soak.db'}"
    if args.database_url.startswith("postgresql://"):
        args.database_url = "postgresql+psycopg://" + args.database_url.removeprefix(
            "postgresql://"
        )
    return report(soak(args, work), work)


def parse_args() -> argparse.Namespace:
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
    return args


OAUTH_CLIENT_ID = "Ov23liSoakClient"
USER_CODE = re.compile(r"`([0-9A-Z]{4}-[0-9A-Z]{4})`")


def soak(args: argparse.Namespace, work: Path) -> Outcome:
    """Start the emulators and repocrew, fire the stream, wait for the drain and count."""
    hub = GitHubEmulator.with_defaults()
    hub.create_repo(REPO, collaborators={"octocat": "admin"})
    hub.oauth.device_interval = 1
    hub.oauth.add_app("repocrew", client_id=OAUTH_CLIENT_ID, client_secret=OAUTH_CLIENT_ID)
    asks = int(args.rate * args.seconds * SHARE_GITHUB_ASK * 1.5) + 10
    chat = SlackEmulator(rate_limits={"chat.postMessage": Policy(1000, burst=1000, per="channel")})
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with ExitStack() as stack:
        hub_url = stack.enter_context(running(github_app(hub)))
        slack_url = stack.enter_context(running(slack_app(chat)))
        hub.base_url = hub_url
        issues = create_issues(hub_url, asks)
        env = repocrew_env(args, hub, hub_url, slack_url, work)
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
        link_octocat(chat, hub_url)

        tally = Tally()
        print(
            f"soak: {args.rate:g} requests/s for {args.seconds:g} s against {url} "
            f"({'web + worker' if len(processes) > 1 else 'serve'}, "
            f"{args.database_url.split(':', 1)[0]})"
        )
        with QueueWatch(engine) as watch:
            sent = fire(args, url, chat, issues, tally)
            waited = settle(engine, hub, chat, tally, args.drain_timeout)
        losses, duplicates = losses_and_duplicates(engine, hub, chat, tally)
        failed = dead_jobs(engine)
    return Outcome(sent, tally, losses, duplicates, failed, waited, watch.max_age)


def report(outcome: Outcome, work: Path) -> int:
    """Print the figures, the machine-readable line last; 1 if anything was lost or doubled."""
    tally = outcome.tally
    lost, duplicated = sum(outcome.losses.values()), sum(outcome.duplicates.values())
    p99 = percentile(tally.latencies_ms, 0.99)
    print(
        f"sent {outcome.sent}: {len(tally.accepted) - len(tally.github_asks)} GitHub events, "
        f"{len(tally.github_asks)} GitHub /crew status, {len(tally.slack_asks)} Slack /crew "
        f"status; refused {dict(tally.refused) or 0}"
    )
    print(
        f"lost {outcome.losses}; duplicated {outcome.duplicates}; dead jobs {outcome.failed or 0}"
    )
    print(
        f"latency ms: p50={percentile(tally.latencies_ms, 0.5):.1f} "
        f"p99={p99:.1f} max={max(tally.latencies_ms, default=0):.1f}; "
        f"drained in {outcome.waited:.1f} s"
    )
    print(
        f"soak: events={outcome.sent} lost={lost} duplicated_side_effects={duplicated} "
        f"p99_ms={p99:.0f} max_queue_age_s={outcome.max_queue_age:.1f}"
    )
    if lost or duplicated:
        print(f"repocrew's logs: {work}")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    return 0


def repocrew_env(
    args: argparse.Namespace, hub: GitHubEmulator, hub_url: str, slack_url: str, work: Path
) -> dict[str, str]:
    """repocrew's environment: this one without its own settings, pointed at the emulators."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPOCREW_", "ANTHROPIC"))}
    return env | {
        "REPOCREW_DATABASE_URL": args.database_url,
        "REPOCREW_GITHUB_WEBHOOK_SECRET": SECRET,
        "REPOCREW_GITHUB_APP_ID": "1",
        "REPOCREW_GITHUB_PRIVATE_KEY": hub.apps[1].private_key_pem.decode(),
        "REPOCREW_GITHUB_API_URL": hub_url,
        "REPOCREW_GITHUB_WEB_URL": hub_url,
        "REPOCREW_GITHUB_OAUTH_CLIENT_ID": OAUTH_CLIENT_ID,
        "REPOCREW_SLACK_BOT_TOKEN": DEFAULT_TOKEN,
        "REPOCREW_SLACK_API_URL": f"{slack_url}/api/",
        "REPOCREW_SLACK_SIGNING_SECRET": DEFAULT_SIGNING_SECRET,
        "REPOCREW_WORK_DIR": str(work / "work"),
        # The emulator has no secondary rate limit to keep writes apart for.
        "REPOCREW_GITHUB_SECONDS_BETWEEN_WRITES": "0",
        "REPOCREW_WORKER_POLL_SECONDS": "0.05",
        "REPOCREW_LOG_LEVEL": "WARNING",
    }


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


def link_octocat(chat: SlackEmulator, hub_url: str) -> None:
    """`/crew link octocat`, octocat approves the code on the emulated GitHub, and the link is
    confirmed (GitHub's device flow)."""
    link = chat.send_command("link octocat")
    if link.status_code != 200:
        raise SystemExit(f"/crew link was refused: {link.status_code} {link.text}")
    deadline = time.monotonic() + 60
    code = None
    while code is None and time.monotonic() < deadline:
        with chat.lock:
            texts = [e.text for e in chat.workspace.ephemerals]
        code = next((m.group(1) for t in texts if (m := USER_CODE.search(t))), None)
        time.sleep(0.1)
    if code is None:
        raise SystemExit("/crew link showed no code")
    with httpx.Client(base_url=hub_url, follow_redirects=True, timeout=30) as browser:
        browser.post("/session", data={"login": "octocat", "password": "x"})
        browser.post("/login/device", data={"user_code": code, "authorize": "1"})
    wait_linked(chat)


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
