"""The processes: `serve` (all in one), `web`, `worker`, `scheduler`, and `start` (serve when
GitHub is configured, else the offline demo)."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer

from bot.settings import Settings
from repocrew.cli_crew import play_demo
from repocrew.setup import Host, Port, ready_settings, report_missing_credentials

log = logging.getLogger("repocrew")


def _run_web(settings: Settings, host: str, port: int, *, background: bool) -> None:
    import uvicorn

    from repocrew.serve import serve_app

    report_missing_credentials(settings)
    application = serve_app(settings, workers=background, scheduler=background)
    # log_config=None: uvicorn's lines (the access log too) go through our JSON handler.
    uvicorn.run(
        application, host=host, port=port, log_level=settings.log_level.lower(), log_config=None
    )


def serve(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Web app, one worker and the scheduler in one process (the embedded SQLite set-up)."""
    _run_web(ready_settings(), host, port, background=True)


def web(host: Host = "0.0.0.0", port: Port = 8000) -> None:
    """Only the web app (scale-out: run several behind a load balancer, on PostgreSQL)."""
    _run_web(ready_settings(), host, port, background=False)


def _stop_on_signals(stop) -> None:
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop())


def worker(
    metrics_port: Annotated[
        int,
        typer.Option(
            help="Serve this worker's call counters at :N/metrics for Prometheus (0: off)."
        ),
    ] = 0,
) -> None:
    """One worker process: claims and runs jobs until SIGTERM."""
    settings = ready_settings()  # a refusal before the seconds of importing every SDK

    from bot.store.migrate import upgrade
    from bot.wiring import build_services
    from jobs.worker import Worker

    services = build_services(settings)
    upgrade(services.engine)
    job_worker = Worker(services)
    _stop_on_signals(job_worker.stop)
    if metrics_port:
        from prometheus_client import start_http_server

        from bot.observability.calls import PROCESS

        # The calls this process makes; the store's families are the web app's /metrics.
        start_http_server(metrics_port, registry=PROCESS)
    try:
        job_worker.run()
    finally:
        services.close()


def scheduler() -> None:
    """The scheduler process (run exactly one at scale-out)."""
    from bot.store.engine import make_engine
    from bot.store.migrate import upgrade
    from jobs.scheduler import build_scheduler

    settings = ready_settings()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    stopping = threading.Event()
    _stop_on_signals(stopping.set)
    timed = build_scheduler(engine)
    timed.start()
    log.info("scheduler started")
    stopping.wait()
    timed.shutdown(wait=False)


def start(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """`repocrew serve` when GitHub credentials are set; otherwise say what is missing and
    show the offline demo."""
    settings = ready_settings()
    github_ready = settings.github_app_id is not None and settings.github_app_private_key
    if github_ready:
        _run_web(settings, host, port, background=True)
        return
    report_missing_credentials(settings)  # one line each: what is missing, what it enables
    typer.echo(
        "\nrepocrew needs a GitHub App to serve (see README: Set-up). "
        "Meanwhile, here is the crew at work against local emulators; its dashboard stays up "
        f"on {host}:{port} afterwards:\n"
    )
    play_demo(serve_at=(host, port))
