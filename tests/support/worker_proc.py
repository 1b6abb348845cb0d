"""A real worker process with test job kinds that leave evidence of every run in the store.

Run as `python -m tests.support.worker_proc`; settings come from REPOCREW_* variables.
"""

from __future__ import annotations

import os
import signal
import time

from sqlalchemy import Column, Integer, MetaData, String, Table, insert

from bot.settings import Settings
from bot.store.engine import make_engine
from bot.wiring import build_services
from jobs.worker import Worker

metadata = MetaData()
effect = Table(
    "test_effect",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("job_id", Integer, nullable=False),
    Column("worker_id", String(128), nullable=False),
    Column("phase", String(16), nullable=False),
)


READY = "ready"


def _record(engine, job, worker_id: str, phase: str) -> None:
    with engine.begin() as connection:
        connection.execute(insert(effect).values(job_id=job.id, worker_id=worker_id, phase=phase))


def main() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    engine = make_engine(settings.database_url)
    worker_id = os.environ["TEST_WORKER_ID"]

    def record(job, _services) -> None:
        _record(engine, job, worker_id, "finished")

    def slow(job, _services) -> None:
        _record(engine, job, worker_id, "started")
        time.sleep(float(job.args.get("seconds", 3)))
        _record(engine, job, worker_id, "finished")

    services = build_services(settings, engine)
    worker = Worker(services, handlers={"record": record, "slow": slow}, worker_id=worker_id)
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    with engine.begin() as connection:  # a test can wait for every worker before enqueuing
        connection.execute(insert(effect).values(job_id=0, worker_id=worker_id, phase=READY))
    worker.run()


if __name__ == "__main__":
    main()
