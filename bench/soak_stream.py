"""The soak's request stream: signed GitHub events and `/crew status` asks on GitHub and Slack,
fired open loop at a fixed rate, and the tally of how each was answered."""

from __future__ import annotations

import itertools
import json
import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from emulators.github.hookshot import Delivery as Hook
from emulators.github.hookshot import headers as hook_headers
from emulators.slack import SlackEmulator

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "github-webhooks" / "examples"
EVENTS = ("issues", "pull_request", "issue_comment", "push", "create", "delete", "label", "star")
SECRET = "soak-webhook-secret"
REPO = "octo-org/ages"
SHARE_GITHUB_ASK = 0.1  # of the stream: `/crew status` comments
SHARE_SLACK_ASK = 0.1  # of the stream: `/crew status <n>` slash commands
SLACK_ASK_BASE = 900_000  # the numbers Slack asks about: no run has them


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
