"""Worker benchmark: how fast workers drain stored GitHub deliveries, and the store's floor.

The GitHub emulator runs in this process; repocrew runs as real processes beside it. For each
setup the script starts the workers, waits until they are idle, stores `--deliveries` signed
deliveries at once through the intake's own durable path (the shared corpus's GitHub examples
of every event repocrew acts on, cycled, each about the bench repository through the App's
installation) with the workers paused, then lets them go and times them until no job is left
queued or running, printing the CPU a job cost in each process (`bench/cpu_time.py`):

* sqlite: one `repocrew serve` (web, its workers and the scheduler) on a fresh SQLite file;
* pg1, pg2: one and two `repocrew worker` processes on a fresh PostgreSQL database;
* noop floor: the same number of jobs claimed and completed on SQLite with no handler work
  (the two small transactions every job costs), in this process.

Targets: sqlite_per_s >= 200 and >= 0.5 x noop_floor_per_s; pg2_per_s >= 1.6 x pg1_per_s.
The last line is machine-readable:

    worker: sqlite_per_s=<n> pg1_per_s=<n> pg2_per_s=<n> noop_floor_per_s=<n>

    .venv/bin/python bench/worker.py [--deliveries 2000] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from bench import cpu_time  # noqa: E402
from bench.soak import wait_ready  # noqa: E402
from bench.worker_processes import paused, repocrew, wait_started  # noqa: E402
from bot.store import queue  # noqa: E402
from bot.store.engine import make_engine, reading  # noqa: E402
from bot.store.intake_writer import IncomingDelivery, IntakeWriter  # noqa: E402
from bot.store.migrate import upgrade  # noqa: E402
from bot.store.models import Job, JobStatus  # noqa: E402
from bot.triggers.catalog import GITHUB_EVENT_JOB, github_acts_on  # noqa: E402
from emulators.github import GitHubEmulator  # noqa: E402
from emulators.github import create_app as github_app  # noqa: E402
from emulators.server import free_port, running  # noqa: E402

# The corpus sits beside the repository (or beside the folder of its worktrees).
SHARED = next((p / "shared" for p in ROOT.parents if (p / "shared" / "corpus").is_dir()), ROOT)
CORPUS = SHARED / "corpus" / "github-webhooks" / "examples"
REPO = "octo-org/bench"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BENCH_DATABASE = "bench_throughput"


def corpus_deliveries() -> list[tuple[str, str, str]]:
    """(event, action, payload JSON) of every corpus example repocrew acts on, about the bench
    repository through installation 1 (some examples are repository webhooks without one)."""
    found = []
    for path in sorted(CORPUS.glob("*/*.json")):
        event, payload = path.parent.name, json.loads(path.read_text())
        action = str(payload.get("action") or "")
        if not github_acts_on(event, action):
            continue
        if "repository" in payload:
            payload["repository"] |= {"full_name": REPO, "name": REPO.split("/")[1]}
        payload["installation"] = {"id": 1}
        found.append((event, action, json.dumps(payload)))
    if not found:
        raise SystemExit(f"no webhook examples under {CORPUS}: the shared corpus is needed")
    return found


def store_deliveries(database_url: str, count: int) -> None:
    """Store `count` deliveries with their jobs as the intake does; returns when committed."""
    examples = corpus_deliveries()
    writer = IntakeWriter(make_engine(database_url))
    incoming = [
        IncomingDelivery(
            source="github",
            delivery_id=str(uuid.uuid4()),
            event=event,
            payload=payload,
            action=action,
            installation_id=1,
            job_kind=GITHUB_EVENT_JOB,
        )
        for event, action, payload in (examples[n % len(examples)] for n in range(count))
    ]

    async def record_all() -> None:
        await asyncio.gather(*(writer.record(delivery) for delivery in incoming))

    writer.start()
    try:
        asyncio.run(record_all())
    finally:
        writer.stop()


UNFINISHED = [JobStatus.QUEUED, JobStatus.RUNNING]
POLL_SECONDS = 0.02  # under 1% of a drain of a few seconds


def any_unfinished(connection) -> bool:
    """Whether a job is still queued or running."""
    query = select(Job.id).where(Job.status.in_(UNFINISHED)).limit(1)
    return connection.execute(query).first() is not None


def wait_drained(engine, deadline: float) -> None:
    """Poll until no job is unfinished: first the job stored last (claims take the due first,
    so it is among the last to end) by its key, then the whole queue.

    The polls are the bench's CPU, on the same two cores as the workers: one connection held
    for them all, outside a transaction, and a key lookup while most jobs are still to do. On
    PostgreSQL the queue's index keeps an entry for each earlier state of a job until vacuum,
    and the whole-queue read polled every 10 ms walked them all: a tenth of the server's CPU.
    """
    with reading(engine) as connection:
        last = connection.execute(select(func.max(Job.id))).scalar_one()
        last_unfinished = select(Job.id).where(Job.id == last, Job.status.in_(UNFINISHED))
        while connection.execute(last_unfinished).first() or any_unfinished(connection):
            connection.rollback()  # SQLite: let the workers write (in autocommit, a no-op)
            if time.perf_counter() > deadline:
                raise SystemExit("jobs still unfinished when the time ran out")
            time.sleep(POLL_SECONDS)


def drain_rate(
    database_url: str, count: int, timeout: float, processes: list[subprocess.Popen]
) -> float:
    """Store `count` deliveries with the workers paused, then time them until every job has
    ended; print the CPU each job cost in the workers, in PostgreSQL and in the bench (its
    polls, and the GitHub emulator), over the drain alone."""
    engine = make_engine(database_url)
    pids = [process.pid for process in processes]
    on_postgres = engine.dialect.name == "postgresql"
    try:
        with paused(processes):  # the clock starts with every job stored, none taken yet
            store_deliveries(database_url, count)
            cpu_before = cpu_time.read(pids, with_postgres=on_postgres)
            stored = time.perf_counter()
        wait_drained(engine, deadline=stored + timeout)
        took = time.perf_counter() - stored
        cpu_after = cpu_time.read(pids, with_postgres=on_postgres)
        print(f"  cpu ms per job: {cpu_time.per_job_line(cpu_before, cpu_after, count)}")
        with engine.connect() as connection:
            dead = connection.execute(
                select(func.count()).where(Job.status == JobStatus.DEAD)
            ).scalar_one()
        if dead:
            print(f"  {dead} jobs dead (see the workers' logs)")
        return count / took
    finally:
        engine.dispose()


def wait_idle(database_url: str, timeout: float = 120) -> None:
    """A worker process is up once it has run one job: store one delivery and wait for it."""
    engine = make_engine(database_url)
    store_deliveries(database_url, 1)
    wait_drained(engine, deadline=time.perf_counter() + timeout)
    engine.dispose()


def repocrew_env(database_url: str, hub: GitHubEmulator, hub_url: str, work: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPOCREW_")}
    if "REPOCREW_WORKER_CONCURRENCY" in os.environ:  # to compare: the one setting passed on
        env["REPOCREW_WORKER_CONCURRENCY"] = os.environ["REPOCREW_WORKER_CONCURRENCY"]
    return env | {
        "REPOCREW_DATABASE_URL": database_url,
        "REPOCREW_GITHUB_WEBHOOK_SECRET": "bench-webhook-secret",
        "REPOCREW_GITHUB_APP_ID": "1",
        "REPOCREW_GITHUB_PRIVATE_KEY": hub.apps[1].private_key_pem.decode(),
        "REPOCREW_GITHUB_API_URL": hub_url,
        "REPOCREW_GITHUB_WEB_URL": hub_url,
        "REPOCREW_WORK_DIR": str(work / "work"),
        # The emulator has no secondary rate limit to keep writes apart for.
        "REPOCREW_GITHUB_SECONDS_BETWEEN_WRITES": "0",
        "REPOCREW_LOG_LEVEL": "WARNING",
    }


def sqlite_rate(args, hub, hub_url: str, work: Path) -> float:
    database_url = f"sqlite:///{work / 'serve.db'}"
    port = free_port()
    serve = [["serve", "--host", "127.0.0.1", "--port", str(port)]]
    with repocrew(serve, repocrew_env(database_url, hub, hub_url, work), work) as processes:
        wait_ready(f"http://127.0.0.1:{port}")
        wait_idle(database_url)
        return drain_rate(database_url, args.deliveries, args.timeout, processes)


@contextmanager
def fresh_postgres(server_url: str):
    """A database of its own on the server, dropped afterwards."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {BENCH_DATABASE}"))
    url = server_url.rsplit("/", 1)[0] + f"/{BENCH_DATABASE}"
    try:
        engine = make_engine(url)
        upgrade(engine)  # once, before the workers race to
        engine.dispose()
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)"))
        admin.dispose()


def postgres_rate(args, hub, hub_url: str, work: Path, workers: int) -> float:
    with fresh_postgres(args.postgres_url) as database_url:
        env = repocrew_env(database_url, hub, hub_url, work)
        with repocrew([["worker"]] * workers, env, work) as processes:
            wait_started(processes)
            wait_idle(database_url)
            return drain_rate(database_url, args.deliveries, args.timeout, processes)


def noop_floor(count: int, work: Path) -> float:
    """Claim and complete `count` jobs with no handler work: what the store costs per job."""
    engine = make_engine(f"sqlite:///{work / 'noop.db'}")
    upgrade(engine)
    for _ in range(count):
        queue.enqueue(engine, kind="noop")
    started = time.perf_counter()
    while (
        job := queue.claim(engine, worker_id="floor", lease_seconds=60, workers_limit=5)
    ) is not None:
        queue.complete(engine, job_id=job.id, worker_id="floor")
    took = time.perf_counter() - started
    engine.dispose()
    return count / took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=2000, help="jobs per setup")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES, help="a server to use")
    parser.add_argument("--timeout", type=float, default=600.0, help="longest drain, seconds")
    parser.add_argument("--only", choices=["sqlite", "pg1", "pg2", "noop"], action="append")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="repocrew-bench-worker-"))
    hub = GitHubEmulator.with_defaults()
    hub.create_repo(REPO, collaborators={"octocat": "admin"})
    rates: dict[str, float] = {}
    wanted = args.only or ["sqlite", "pg1", "pg2", "noop"]
    with ExitStack() as stack:
        hub_url = stack.enter_context(running(github_app(hub)))
        hub.base_url = hub_url
        if "sqlite" in wanted:
            rates["sqlite"] = sqlite_rate(args, hub, hub_url, work)
            print(f"sqlite, one serve: {rates['sqlite']:.0f} jobs/s")
        for workers in (1, 2):
            if f"pg{workers}" in wanted:
                rates[f"pg{workers}"] = postgres_rate(args, hub, hub_url, work, workers)
                print(f"postgresql, {workers} worker(s): {rates[f'pg{workers}']:.0f} jobs/s")
        if "noop" in wanted:
            rates["noop"] = noop_floor(args.deliveries, work)
            print(f"no-op floor (sqlite): {rates['noop']:.0f} jobs/s")
    print(f"GitHub API calls: {sum(hub.rate_used.values())}")
    shutil.rmtree(work, ignore_errors=True)
    names = {"sqlite": "sqlite", "pg1": "pg1", "pg2": "pg2", "noop": "noop_floor"}
    print("worker: " + " ".join(f"{names[k]}_per_s={rates.get(k, 0):.0f}" for k in names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
