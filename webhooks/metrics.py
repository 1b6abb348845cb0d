"""GET /metrics (Prometheus text format), and the intake's own counts it includes.

Each app has its own registry (tests build many apps in one process): the deliveries it
answered and how fast, by source; the store's families (`StoreCollector`, beside this module);
and the process's calls to GitHub, Slack and Anthropic (`bot.observability.calls.PROCESS`).

The intake counts every answer, refusals included (401, 400 and 413 are never stored), with
`observed_intake` around the endpoint: a context variable carries the note of what the store
did with the delivery from deep inside (slack-bolt's middleware) back out to the count.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from bot.observability.calls import PROCESS
from bot.observability.logs import bind, log_context
from webhooks.store_metrics import StoreCollector

log = logging.getLogger(__name__)

router = APIRouter()

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# What a refusal is called in repocrew_webhook_deliveries_total{outcome=…}.
REFUSALS = {
    400: "bad_request",
    401: "unauthorized",
    413: "too_large",
    503: "unavailable",
}
UNKNOWN = "unknown"  # the event of a request that was refused before it was trusted
_making = threading.Lock()


class _Forward(Collector):
    """Serves another registry's families as part of this one."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def describe(self) -> list[Metric]:
        return []

    def collect(self):
        return self.source.collect()


class WebMetrics:
    """One app's registry and the intake's families in it."""

    def __init__(self, engine) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.deliveries = Counter(
            "repocrew_webhook_deliveries",
            "Webhook and Slack requests answered, by source, event and outcome (queued, ignored,"
            " duplicate, answered, or the refusal: unauthorized, bad_request, too_large,"
            " unavailable)",
            ["source", "event", "outcome"],
            registry=self.registry,
        )
        self.intake_seconds = Histogram(
            "repocrew_webhook_intake_seconds",
            "Time from a request's arrival to its answer (stored and committed when accepted)",
            ["source"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(StoreCollector(engine))
        self.registry.register(_Forward(PROCESS))

    def observe(self, source: str, event: str, outcome: str, seconds: float) -> None:
        self.deliveries.labels(source, event, outcome).inc()
        self.intake_seconds.labels(source).observe(seconds)


def metrics_for(app: FastAPI) -> WebMetrics:
    """The app's metrics, made on first use (so composing the app needs only the router)."""
    metrics = getattr(app.state, "metrics", None)
    if metrics is None:
        with _making:  # the first scrape (a thread) and the first delivery may race here
            metrics = getattr(app.state, "metrics", None)
            if metrics is None:
                metrics = app.state.metrics = WebMetrics(app.state.engine)
    return metrics


@dataclass
class IntakeNote:
    """What the intake learnt of one request once it was trusted."""

    event: str = UNKNOWN
    outcome: str = ""


_note: ContextVar[IntakeNote | None] = ContextVar("repocrew_intake_note", default=None)


def note_intake(
    *,
    event: str,
    outcome: str,
    delivery_id: str | None = None,
    installation_id: int | None = None,
) -> None:
    """Say what the store did with this request (queued, ignored, duplicate); the delivery's
    ids go on the log lines from here to the answer."""
    note = _note.get()
    if note is not None:
        note.event, note.outcome = event, outcome
    bind(delivery_id=delivery_id, installation_id=installation_id)


Endpoint = Callable[[Request], Awaitable[Response]]


def observed_intake(source: str) -> Callable[[Endpoint], Endpoint]:
    """Count and time every answer of an intake endpoint; log refusals."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def observed(request: Request) -> Response:
            started = time.perf_counter()
            note = IntakeNote()
            token = _note.set(note)
            try:
                with log_context(source=source):
                    response = await endpoint(request)
                    outcome = note.outcome or REFUSALS.get(response.status_code)
                    if outcome is None:
                        outcome = "answered" if response.status_code < 400 else "error"
                    if response.status_code >= 400:
                        log.info("%s request refused: %s %s", source, response.status_code, outcome)
            finally:
                _note.reset(token)
            metrics_for(request.app).observe(
                source, note.event, outcome, time.perf_counter() - started
            )
            return response

        return observed

    return decorate


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Synchronous: FastAPI runs it in a thread, so reading the store never blocks the loop."""
    registry = metrics_for(request.app).registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
