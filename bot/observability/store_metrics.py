"""What the store knows, as Prometheus families, read at scrape time.

Web, worker and scheduler may be separate processes (on PostgreSQL), so the queue, the runs,
the model spend and the standups are read from the store, where they are true for all of them,
not counted in any one process. Each family is one GROUP BY over an indexed or small table,
and on PostgreSQL the whole scrape is bounded by a statement timeout. A store that cannot
answer gives `repocrew_store_up 0` rather than a failed scrape.

Every web replica serves the same numbers: aggregate them with `max`, not `sum`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Connection, Engine, and_, case, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from bot.runs.states import RunState
from bot.store.engine import is_sqlite
from bot.store.models import Job, JobStatus, ModelCall, Run, Standup, utcnow

log = logging.getLogger(__name__)

_job = Job.__table__  # type: ignore[attr-defined]
_run = Run.__table__  # type: ignore[attr-defined]
_call = ModelCall.__table__  # type: ignore[attr-defined]
_standup = Standup.__table__  # type: ignore[attr-defined]

# Ledger column → the `kind` label of repocrew_llm_tokens_total.
TOKEN_KINDS = {
    "input": _call.c.input_tokens,
    "output": _call.c.output_tokens,
    "cache_read": _call.c.cache_read_input_tokens,
    "cache_write": _call.c.cache_creation_input_tokens,
}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


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
        self._postgres = not is_sqlite(str(engine.url))

    def describe(self) -> list[Metric]:
        return []  # registering must not query the store

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        try:
            with self.engine.connect() as connection:
                if self._postgres:
                    milliseconds = int(self.timeout_seconds * 1000)
                    connection.execute(text(f"SET LOCAL statement_timeout = {milliseconds}"))
                families = [
                    *self._jobs(connection),
                    self._runs(connection),
                    *self._model_spend(connection),
                    self._standups(connection),
                ]
            up = 1.0
        except SQLAlchemyError as error:
            log.warning("metrics: the store did not answer: %s", error)
            families, up = [], 0.0
        yield from families
        yield GaugeMetricFamily("repocrew_store_up", "1 when the store answered the scrape", up)
        yield GaugeMetricFamily(
            "repocrew_store_scrape_seconds",
            "How long reading the store for this scrape took",
            time.perf_counter() - started,
        )

    def _jobs(self, connection: Connection) -> list[Metric]:
        now = self.now()
        due = and_(_job.c.status == JobStatus.QUEUED, _job.c.run_after <= now)
        state = case(
            (due, "ready"), (_job.c.status == JobStatus.QUEUED, "scheduled"), else_=_job.c.status
        ).label("state")
        rows = connection.execute(
            select(_job.c.kind, state, func.count())
            .where(_job.c.status.in_([JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DEAD]))
            .group_by(_job.c.kind, state)
        ).all()
        depth = GaugeMetricFamily(
            "repocrew_jobs",
            "Jobs not done, by kind and state: ready (due), scheduled (later), running, dead",
            labels=["kind", "state"],
        )
        for kind, job_state, count in rows:
            depth.add_metric([kind, job_state], count)
        oldest = dict(
            connection.execute(
                select(_job.c.kind, func.min(_job.c.run_after)).where(due).group_by(_job.c.kind)
            ).all()
        )
        age = GaugeMetricFamily(
            "repocrew_job_oldest_ready_age_seconds",
            "How long the oldest job that is due has waited for a worker (0: none waits)",
            labels=["kind"],
        )
        for kind in sorted({row[0] for row in rows} | set(oldest)):
            waited = (now - _aware(oldest[kind])).total_seconds() if kind in oldest else 0.0
            age.add_metric([kind], max(0.0, waited))
        return [depth, age]

    def _runs(self, connection: Connection) -> Metric:
        counts = dict(
            connection.execute(select(_run.c.state, func.count()).group_by(_run.c.state)).all()
        )
        runs = GaugeMetricFamily("repocrew_runs", "Team runs by state", labels=["state"])
        for state in [*RunState, *sorted(set(counts) - set(RunState))]:
            runs.add_metric([str(state)], counts.get(str(state), 0))
        return runs

    def _model_spend(self, connection: Connection) -> list[Metric]:
        rows = connection.execute(
            select(
                _call.c.role,
                _call.c.model,
                func.count(),
                func.sum(_call.c.cost_usd),
                *(func.sum(column) for column in TOKEN_KINDS.values()),
            ).group_by(_call.c.role, _call.c.model)
        ).all()
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
        for role, model, count, usd, *sums in rows:
            calls.add_metric([role, model], count)
            cost.add_metric([role, model], float(usd or 0))
            for kind, total in zip(TOKEN_KINDS, sums, strict=True):
                tokens.add_metric([role, model, kind], int(total or 0))
        return [calls, cost, tokens]

    def _standups(self, connection: Connection) -> Metric:
        rows = connection.execute(
            select(_standup.c.channel, func.count())
            .where(_standup.c.status == "posted")
            .group_by(_standup.c.channel)
        ).all()
        posted = CounterMetricFamily(
            "repocrew_standups_posted", "Standups posted, by channel", labels=["channel"]
        )
        for channel, count in rows:
            posted.add_metric([channel], count)
        return posted
