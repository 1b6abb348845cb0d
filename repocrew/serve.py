"""One process of repocrew: the web app with, for `repocrew serve`, a worker in two lanes and
the scheduler beside it; the services they share are built once here."""

from __future__ import annotations

import threading
from collections.abc import Callable

from fastapi import FastAPI

from bot.runs.lifecycle import CREW_RUN_JOB
from bot.services import Services
from bot.settings import Settings
from bot.store.engine import Engine, make_engine
from bot.wiring import build_services
from jobs.scheduler import build_scheduler
from jobs.worker import Worker
from webhooks.app import create_app

# Two lanes: a crew run holds its worker for minutes, so a second worker that never takes one
# keeps Slack posts, webhooks and slash commands moving meanwhile.
LANES: dict[str, tuple[str, ...]] = {"worker": (), "worker-quick": (CREW_RUN_JOB,)}


def serve_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    workers: bool = True,
    scheduler: bool = True,
    **wiring_options,
) -> FastAPI:
    """The web app; with `workers`/`scheduler`, those run in its lifespan too."""
    engine = engine or make_engine(settings.database_url)
    if not (workers or scheduler):
        return create_app(settings, engine=engine)
    services = build_services(settings, engine, **wiring_options)
    return create_app(
        settings, engine=engine, background=lambda: start_background(services, workers, scheduler)
    )


def start_background(services: Services, workers: bool, scheduler: bool) -> Callable[[], None]:
    """Start the in-process workers and scheduler; returns the function that stops them."""
    stops: list[Callable[[], None]] = []
    settings = services.settings
    for name, skip_kinds in LANES.items() if workers else ():
        worker = Worker(services, skip_kinds=skip_kinds)
        thread = threading.Thread(target=worker.run, name=name, daemon=True)
        thread.start()

        def stop_worker(worker: Worker = worker, thread: threading.Thread = thread) -> None:
            worker.stop()
            thread.join(settings.shutdown_grace_seconds + settings.job_lease_seconds)

        stops.append(stop_worker)
    if scheduler:
        timed = build_scheduler(services.engine)
        timed.start()
        stops.append(lambda: timed.shutdown(wait=False))

    def stop_all() -> None:
        for stop in reversed(stops):
            stop()
        services.close()

    return stop_all
