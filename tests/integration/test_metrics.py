"""GET /metrics after real traffic, parsed with prometheus_client's own parser.

Signed GitHub deliveries (and refused ones), a Slack command from the Slack emulator, its job
through the worker, a model call through the Anthropic emulator, a GitHub call through the
GitHub emulator. The outbound counts are checked against what each emulator saw it answer
(an ASGI recorder in front of it), the intake counts against what was sent and stored.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from bot.github import ClientOptions, GitHubApp
from bot.github.access import READ
from bot.llm.client import ModelClient, ModelReply, ModelUsage
from bot.llm.ledger import Ledger
from bot.runs.progress import create_run, end_run
from bot.runs.states import RunState
from bot.store import queue
from bot.store.engine import make_engine
from bot.store.models import Delivery, utcnow
from bot.store.standups import claim_standup, mark_posted
from bot.wiring import build_services
from emulators.anthropic import AnthropicEmulator, Turn
from emulators.anthropic import create_app as anthropic_app
from emulators.github import GitHubEmulator
from emulators.github import create_app as github_app
from emulators.server import free_port, running
from emulators.slack import DEFAULT_SIGNING_SECRET, DEFAULT_TOKEN, Policy, SlackEmulator
from emulators.slack import create_app as slack_app
from jobs.worker import Worker
from tests.conftest import GITHUB_SECRET, make_settings
from tests.support.signing import github_headers, slack_headers
from webhooks.app import create_app
from webhooks.store_metrics import StoreCollector

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
REPOCREW = str(Path(sys.executable).with_name("repocrew"))
MODEL = "claude-haiku-4-5"
MAX_BODY = 64 * 1024
FAST_GITHUB = ClientOptions(
    retries=3, backoff_factor=0.01, backoff_max=0.05, seconds_between_writes=None
)


class Statuses:
    """ASGI middleware in front of an emulator: how many responses of each status it sent."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: collections.Counter[str] = collections.Counter()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def record(message) -> None:
            if message["type"] == "http.response.start":
                self.seen[str(message["status"])] += 1
            await send(message)

        await self.app(scope, receive, record)


class Scrape:
    """One parsed GET /metrics: sample values by name and labels."""

    def __init__(self, text: str) -> None:
        self.families = {f.name: f for f in text_string_to_metric_families(text)}
        self.values = {
            (s.name, frozenset(s.labels.items())): s.value
            for family in self.families.values()
            for s in family.samples
        }

    def value(self, name: str, **labels: str) -> float:
        return self.values.get((name, frozenset(labels.items())), 0.0)

    def by(self, name: str, label: str, **fixed: str) -> dict[str, float]:
        """`label` value → sample value, over the samples of `name` with the `fixed` labels."""
        found = {}
        for (sample, labels), value in self.values.items():
            labels = dict(labels)
            if sample == name and all(labels.get(k) == v for k, v in fixed.items()):
                found[labels[label]] = value
        return found


def scrape(url: str) -> Scrape:
    response = httpx.get(f"{url}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return Scrape(response.text)


def calls(before: Scrape, after: Scrape, service: str) -> dict[str, float]:
    """This test's calls to `service` by status (the counters are the process's)."""
    name = "repocrew_external_calls_total"
    was = before.by(name, "status", service=service)
    now = after.by(name, "status", service=service)
    return {status: n - was.get(status, 0) for status, n in now.items() if n - was.get(status, 0)}


def retries(before: Scrape, after: Scrape, service: str) -> float:
    name = "repocrew_external_retries_total"
    return after.value(name, service=service) - before.value(name, service=service)


@dataclass
class Traffic:
    url: str
    settings: Any
    engine: Any
    hub: GitHubEmulator
    hub_url: str
    model: AnthropicEmulator
    model_url: str
    chat: SlackEmulator
    seen: dict[str, Statuses]


@pytest.fixture
def traffic(database_url) -> Iterator[Traffic]:
    hub = GitHubEmulator.with_defaults()
    model = AnthropicEmulator([Turn.text("Standup polished.")])
    chat = SlackEmulator(rate_limits={"chat.postMessage": Policy(100, burst=100, per="channel")})
    seen = {
        "github": Statuses(github_app(hub)),
        "anthropic": Statuses(anthropic_app(model)),
        "slack": Statuses(slack_app(chat)),
    }
    with (
        running(seen["github"]) as hub_url,
        running(seen["anthropic"]) as model_url,
        running(seen["slack"]) as slack_url,
    ):
        settings = make_settings(
            database_url,
            slack_signing_secret=DEFAULT_SIGNING_SECRET,
            slack_bot_token=DEFAULT_TOKEN,
            slack_api_url=f"{slack_url}/api/",
            max_webhook_bytes=MAX_BODY,
        )
        app = create_app(settings)
        with running(app) as url:
            chat.app_url = url
            yield Traffic(
                url, settings, app.state.engine, hub, hub_url, model, model_url, chat, seen
            )


def post_github(url: str, event: str, payload: dict | bytes, *, delivery: str = "", **kw):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = github_headers(
        kw.get("secret", GITHUB_SECRET), body, event, delivery or str(uuid.uuid4())
    )
    return httpx.post(f"{url}/github/webhook", content=body, headers=headers, timeout=10)


ISSUE = {"action": "opened", "installation": {"id": 1}, "issue": {"number": 1}}


@SQLITE_ONLY
def test_metrics_count_the_intake_the_worker_and_every_outside_call(traffic):
    url = traffic.url
    before = scrape(url)

    # GitHub: two queued, a redelivery, an ignored event, a ping, and four refusals.
    first = str(uuid.uuid4())
    answers = [
        post_github(url, "issues", ISSUE, delivery=first),
        post_github(url, "issues", ISSUE),
        post_github(url, "issues", ISSUE, delivery=first),
        post_github(url, "star", {"action": "created", "installation": {"id": 1}}),
        post_github(url, "ping", {"zen": "Keep it logically awesome."}),
        post_github(url, "issues", ISSUE, secret="not-the-secret"),
        post_github(url, "issues", b"{not json"),
        post_github(url, "issues", b"{" + b" " * MAX_BODY + b"}"),
    ]
    assert [a.status_code for a in answers] == [202, 202, 200, 202, 200, 401, 400, 413]

    # Slack: a signed command from the emulator, and one signed with the wrong secret.
    assert traffic.chat.send_command("help").status_code == 200
    body = b"command=%2Fcrew&text=help&team_id=T0001&user_id=U0001&channel_id=C0002"
    forged = slack_headers("wrong-secret", body, "application/x-www-form-urlencoded")
    assert httpx.post(f"{url}/slack/commands", content=body, headers=forged).status_code == 401

    # The worker: both issue deliveries and the command (whose answer goes to Slack).
    assert Worker(build_services(traffic.settings, traffic.engine)).run_until_idle() == 3
    assert len(traffic.chat.workspace.ephemerals) == 1

    # GitHub through PyGithub: the token, one 502 retried, then the repository.
    traffic.hub.faults.add("GET", "/repos/octo-org/hello", "server_error")
    key = traffic.hub.apps[1].private_key_pem.decode()
    app = GitHubApp(1, key, base_url=traffic.hub_url, options=FAST_GITHUB)
    assert app.installation(1).repo("octo-org/hello").default_branch == "main"

    # The model through the anthropic SDK: one overloaded answer retried, then the reply.
    traffic.model.overload(times=1, retry_after=0.01)
    client = ModelClient(api_key="sk-ant-test-key", base_url=traffic.model_url)
    reply = client.create(
        model=MODEL,
        max_tokens=64,
        system="Be brief.",
        messages=[{"role": "user", "content": "Polish"}],
    )
    client.close()
    Ledger(traffic.engine, run_id=None, step="standup", role="lead", cost=lambda *_: 0.25).record(
        0, "key", {"model": MODEL}, reply
    )

    after = scrape(url)
    deliveries = "repocrew_webhook_deliveries_total"
    sent = collections.Counter(
        {
            ("github", "issues", "queued"): 2,
            ("github", "issues", "duplicate"): 1,
            ("github", "star", "ignored"): 1,
            ("github", "ping", "ignored"): 1,
            ("github", "unknown", "unauthorized"): 1,
            ("github", "unknown", "bad_request"): 1,
            ("github", "unknown", "too_large"): 1,
            ("slack", "command", "queued"): 1,
            ("slack", "unknown", "unauthorized"): 1,
        }
    )
    counted = {
        (s.labels["source"], s.labels["event"], s.labels["outcome"]): s.value
        for s in after.families["repocrew_webhook_deliveries"].samples
        if s.name == deliveries
    }
    assert counted == sent
    # The accepted ones are exactly what the store kept (its audit log).
    with traffic.engine.connect() as connection:
        stored = connection.execute(
            select(Delivery.source, Delivery.event, Delivery.outcome, func.count()).group_by(
                Delivery.source, Delivery.event, Delivery.outcome
            )
        ).all()
    assert {(s, e, o): n for s, e, o, n in stored} == {
        key: n for key, n in sent.items() if key[2] in ("queued", "ignored")
    }

    latency = "repocrew_webhook_intake_seconds"
    assert after.families[latency].type == "histogram"
    assert after.value(f"{latency}_count", source="github") == 8
    assert after.value(f"{latency}_count", source="slack") == 2
    assert 0 < after.value(f"{latency}_sum", source="github") < 8 * 5
    assert after.value(f"{latency}_bucket", source="github", le="+Inf") == 8

    # Outside calls: exactly what each emulator answered, retries included.
    for service in ("github", "slack", "anthropic"):
        assert calls(before, after, service) == dict(traffic.seen[service].seen), service
    assert traffic.seen["github"].seen == {"201": 1, "502": 1, "200": 1}
    assert traffic.seen["anthropic"].seen == {"529": 1, "200": 1}
    assert traffic.seen["slack"].seen == {"200": 1}
    assert (retries(before, after, "github"), retries(before, after, "anthropic")) == (1, 1)
    assert retries(before, after, "slack") == 0

    # The store's families: the jobs are done, the model call is in the ledger.
    assert after.by("repocrew_jobs", "state") == {}
    labels = {"role": "lead", "model": reply.model}
    usage = reply.usage
    assert after.value("repocrew_llm_calls_total", **labels) == 1
    assert after.value("repocrew_llm_cost_usd_total", **labels) == 0.25
    assert after.by("repocrew_llm_tokens_total", "kind", **labels) == {
        "input": usage.input_tokens,
        "output": usage.output_tokens,
        "cache_read": usage.cache_read_input_tokens,
        "cache_write": usage.cache_creation_input_tokens,
    }
    assert usage.input_tokens > 0 and usage.output_tokens > 0
    assert after.value("repocrew_store_up") == 1


def _reply(model: str, tokens: int) -> ModelReply:
    usage = ModelUsage(
        tokens, tokens // 2, cache_creation_input_tokens=3, cache_read_input_tokens=5
    )
    return ModelReply("msg_1", model, [{"type": "text", "text": "ok"}], "end_turn", usage, None)


def test_the_store_families_say_what_the_store_holds(engine):
    """Runs by state, the queue, spend by role and model, standups: on SQLite and PostgreSQL."""
    now = utcnow()
    queued = create_run(engine, repo="octo-org/hello", task="one")
    failed = create_run(engine, repo="octo-org/hello", task="two")
    create_run(engine, repo="octo-org/hello", task="three")
    assert end_run(engine, failed, target=RunState.FAILED, reason="test")
    queue.enqueue(engine, kind="test.ready", run_after=now - timedelta(seconds=30))
    queue.enqueue(engine, kind="test.ready", run_after=now - timedelta(seconds=5))
    queue.enqueue(engine, kind="test.later", run_after=now + timedelta(hours=1))
    claimed = queue.enqueue(engine, kind="test.claimed", run_after=now - timedelta(hours=2))
    job = queue.claim(engine, worker_id="w", lease_seconds=60, workers_limit=5)
    assert job is not None and job.id == claimed  # the oldest due job: now running
    for seq, (role, model, tokens) in enumerate(
        [
            ("coder", "claude-sonnet-4-5", 100),
            ("coder", "claude-sonnet-4-5", 50),
            ("planner", "claude-opus-4-5", 10),
        ]
    ):
        Ledger(engine, run_id=queued, step="code", role=role, cost=lambda *_: 0.5).record(
            seq, f"k{seq}", {}, _reply(model, tokens)
        )
    posted = claim_standup(engine, channel="C0002", day="2025-01-06", posts=[], now=now)
    assert posted is not None
    mark_posted(engine, standup_id=posted, now=now)
    assert claim_standup(engine, channel="C0002", day="2025-01-07", posts=[], now=now)  # posting

    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry()
    registry.register(StoreCollector(engine))
    found = Scrape(generate_latest(registry).decode())

    runs = found.by("repocrew_runs", "state")
    assert runs == {state.value: 0 for state in RunState} | {"queued": 2, "failed": 1}
    assert {
        (dict(labels)["kind"], dict(labels)["state"]): value
        for (name, labels), value in found.values.items()
        if name == "repocrew_jobs"
    } == {
        ("test.ready", "ready"): 2,
        ("test.later", "scheduled"): 1,
        ("test.claimed", "running"): 1,
    }
    age = found.by("repocrew_job_oldest_ready_age_seconds", "kind")
    assert set(age) == {"test.ready", "test.later", "test.claimed"}
    assert 30 <= age["test.ready"] < 120 and age["test.later"] == age["test.claimed"] == 0
    coder = {"role": "coder", "model": "claude-sonnet-4-5"}
    assert found.value("repocrew_llm_calls_total", **coder) == 2
    assert found.value("repocrew_llm_cost_usd_total", **coder) == 1.0
    assert found.by("repocrew_llm_tokens_total", "kind", **coder) == {
        "input": 150, "output": 75, "cache_write": 6, "cache_read": 10,
    }  # fmt: skip
    planner = {"role": "planner", "model": "claude-opus-4-5"}
    assert found.value("repocrew_llm_tokens_total", kind="input", **planner) == 10
    assert found.by("repocrew_standups_posted_total", "channel") == {"C0002": 1}
    assert found.value("repocrew_store_up") == 1


def test_a_store_that_does_not_answer_gives_store_up_0_not_a_failed_scrape(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'repocrew.db'}")
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry()
    registry.register(StoreCollector(engine))
    found = Scrape(generate_latest(registry).decode())
    assert found.value("repocrew_store_up") == 0
    assert "repocrew_runs" not in found.families


def test_a_worker_serves_its_call_counters_on_its_metrics_port(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPOCREW_", "ANTHROPIC_"))}
    env |= {
        "REPOCREW_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}",
        "REPOCREW_LOG_FORMAT": "json",
    }
    worker = subprocess.Popen(
        [REPOCREW, "worker", "--metrics-port", str(port)],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)
                break
            except httpx.TransportError:
                assert worker.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        found = Scrape(response.text)
        assert found.by("repocrew_external_retries_total", "service") == {
            "github": 0, "slack": 0, "anthropic": 0,
        }  # fmt: skip
        assert "repocrew_external_calls" in found.families
        assert "repocrew_runs" not in found.families  # the store's: served by the web app
    finally:
        worker.send_signal(signal.SIGTERM)
        _, stderr = worker.communicate(timeout=30)
    lines = [json.loads(line) for line in stderr.splitlines()]  # every line is JSON
    messages = [line["message"] for line in lines if line["logger"] == "jobs.worker"]
    assert [m.split()[-1] for m in messages] == ["started", "stopped"]


def test_a_service_that_does_not_answer_counts_as_error_with_each_retry():
    from bot.llm.client import ModelUnavailable
    from bot.observability.calls import PROCESS

    def count(name: str, **labels: str) -> float:
        return PROCESS.get_sample_value(name, labels) or 0.0

    errors, retried = "repocrew_external_calls_total", "repocrew_external_retries_total"
    before = {
        s: (count(errors, service=s, status="error"), count(retried, service=s))
        for s in ("github", "anthropic")
    }
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there

    client = ModelClient(api_key="sk-ant-test-key", base_url=nowhere, max_retries=1, deadline=10)
    with pytest.raises(ModelUnavailable):
        client.create(
            model=MODEL, max_tokens=8, system="", messages=[{"role": "user", "content": "hi"}]
        )
    client.close()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(Exception, match="Max retries exceeded"):
        GitHubApp(1, key.decode(), base_url=nowhere, options=FAST_GITHUB).installation(1).token(
            "octo-org/hello", READ
        )

    after = {
        s: (count(errors, service=s, status="error"), count(retried, service=s))
        for s in ("github", "anthropic")
    }
    assert after["anthropic"][0] - before["anthropic"][0] == 2  # the call and its one retry
    assert after["anthropic"][1] - before["anthropic"][1] == 1
    assert after["github"][0] - before["github"][0] == FAST_GITHUB.retries + 1
    assert after["github"][1] - before["github"][1] == FAST_GITHUB.retries
