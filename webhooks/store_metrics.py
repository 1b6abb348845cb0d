"""What the store knows, as Prometheus families, read at scrape time.

Web, worker and scheduler may be separate processes (on PostgreSQL), so the queue, the runs,
the model spend and the standups are read from the store, where they are true for all of them,
not counted in any one process (`bot.store.metrics`: one GROUP BY per family, the scrape
bounded by a statement timeout on PostgreSQL). A store that cannot answer gives
`repocrew_store_up 0` rather than a failed scrape.

It lives at the web edge beside `/metrics`, its only user, because it names every run state
(`bot.runs.states`), which the layers below the runs may not import.

Every web replica serves the same numbers: aggregate them with `max`, not `sum`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.runs.states import RunState
from bot.store.engine import Engine, StoreError
from bot.store.metrics import Spend, StoreCounts, store_counts
from bot.store.models import utcnow

log = logging.getLogger(__name__)

# The `kind` label of repocrew_llm_tokens_total → its ledger column.
TOKEN_KINDS = {
    "input": "input_tokens",
    "output": "output_tokens",
    "cache_read": "cache_read_input_tokens",
    "cache_write": "cache_creation_input_tokens",
}


class StoreCollector(Collector):
    """Reads the store on each `collect()` (one scrape)."""

    def __init__(
        self,
        engine: Engine,
        *,
        timeout_seconds: float = 2.0,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.timeout_seconds = timeout_seconds
        self.now = now

    def describe(self) -> list[Metric]:
        return []  # registering must not query the store

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        now = self.now()
        try:
            counts = store_counts(self.engine, now=now, timeout_seconds=self.timeout_seconds)
            families = [
                *_jobs(counts, now),
                _runs(counts.runs),
                *_model_spend(counts.spend),
                _standups(counts.standups_posted),
                *_reviews(counts.reviews),
            ]
            up = 1.0
        except StoreError as error:
            log.warning("metrics: the store did not answer: %s", error)
            families, up = [], 0.0
        yield from families
        yield GaugeMetricFamily("repocrew_store_up", "1 when the store answered the scrape", up)
        yield GaugeMetricFamily(
            "repocrew_store_scrape_seconds",
            "How long reading the store for this scrape took",
            time.perf_counter() - started,
        )


def _jobs(counts: StoreCounts, now: datetime) -> list[Metric]:
    depth = GaugeMetricFamily(
        "repocrew_jobs",
        "Jobs not done, by kind and state: ready (due), scheduled (later), running, dead",
        labels=["kind", "state"],
    )
    for kind, job_state, count in counts.jobs:
        depth.add_metric([kind, job_state], count)
    oldest = counts.oldest_ready
    age = GaugeMetricFamily(
        "repocrew_job_oldest_ready_age_seconds",
        "How long the oldest job that is due has waited for a worker (0: none waits)",
        labels=["kind"],
    )
    for kind in sorted({row[0] for row in counts.jobs} | set(oldest)):
        waited = (now - oldest[kind]).total_seconds() if kind in oldest else 0.0
        age.add_metric([kind], max(0.0, waited))
    return [depth, age]


def _runs(counts: dict[str, int]) -> Metric:
    """Every state of the machine, 0 when no run is in it; unknown states after them."""
    runs = GaugeMetricFamily("repocrew_runs", "Team runs by state", labels=["state"])
    for state in [*RunState, *sorted(set(counts) - set(RunState))]:
        runs.add_metric([str(state)], counts.get(str(state), 0))
    return runs


def _model_spend(spend: list[Spend]) -> list[Metric]:
    labels = ["role", "model"]
    calls = CounterMetricFamily(
        "repocrew_llm_calls", "Model calls in the ledger, by role and model", labels=labels
    )
    cost = CounterMetricFamily(
        "repocrew_llm_cost_usd", "Model spend in USD, by role and model", labels=labels
    )
    tokens = CounterMetricFamily(
        "repocrew_llm_tokens",
        "Model tokens by role, model and kind (input, output, cache_read, cache_write)",
        labels=[*labels, "kind"],
    )
    for row in spend:
        calls.add_metric([row.role, row.model], row.calls)
        cost.add_metric([row.role, row.model], row.cost_usd)
        for kind, column in TOKEN_KINDS.items():
            tokens.add_metric([row.role, row.model, kind], row.tokens[column])
    return [calls, cost, tokens]


def _standups(posted: list[tuple[str, int]]) -> Metric:
    family = CounterMetricFamily(
        "repocrew_standups_posted", "Standups posted, by channel", labels=["channel"]
    )
    for channel, count in posted:
        family.add_metric([channel], count)
    return family


def _reviews(rows: list[tuple[str, int, float]]) -> list[Metric]:
    """Reviews of people's pull requests (`auto`, and `review`: asked for), and their cost."""
    runs = CounterMetricFamily(
        "repocrew_reviews", "Review-only runs, by mode (auto, review)", labels=["mode"]
    )
    cost = CounterMetricFamily(
        "repocrew_review_cost_usd", "Model spend of review-only runs, by mode", labels=["mode"]
    )
    for mode, count, usd in rows:
        runs.add_metric([mode], count)
        cost.add_metric([mode], usd)
    return [runs, cost]
