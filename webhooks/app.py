"""The FastAPI application: composes the routers and owns the intake writer's lifetime."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request

from bot.settings import Settings, load_settings
from bot.store.engine import Engine, make_engine
from bot.store.intake_writer import IntakeWriter
from bot.store.migrate import upgrade
from bot.wiring import Wiring
from webhooks import dashboard, github, health, metrics, slack

log = logging.getLogger(__name__)


class RepocrewApp(FastAPI):
    """FastAPI, with the GitHub intake answered ahead of the middleware stack.

    The webhook is the one hot path: GitHub waits on it and bursts are common. It verifies,
    stores and answers by itself, so the generic middleware layers only add latency there.
    """

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"] == github.PATH and scope["method"] == "POST":
            scope["app"] = self
            response = await github.github_webhook(Request(scope, receive))
            await response(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


# Starts what runs beside the web app in one process (workers, the scheduler) and returns the
# function that stops it; the composition root (`repocrew.serve`) provides it.
Background = Callable[[], Callable[[], None]]


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    background: Background | None = None,
    slack_verifier: slack.SlackSignature | None = None,
) -> FastAPI:
    """The web app; `repocrew serve` also starts a worker and the scheduler in its lifespan.

    `slack_verifier` defaults to one over the signing secret; tests pass their own to count.
    """
    settings = settings or load_settings()
    engine = engine or make_engine(settings.database_url, threads=settings.worker_concurrency)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        upgrade(engine)
        intake.start()
        # Move everything start-up made out of the collector's sight: a full collection over
        # it would stall the event loop for tens of milliseconds under load.
        gc.collect()
        gc.freeze()
        stop = background() if background is not None else (lambda: None)
        try:
            yield
        finally:
            stop()
            intake.stop()
            wiring.close()

    intake = IntakeWriter(engine)
    app = RepocrewApp(title="repocrew", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.engine = engine
    app.state.github_secret = (
        settings.github_webhook_secret.get_secret_value().encode()
        if settings.github_webhook_secret
        else None
    )
    app.state.intake = intake
    app.state.slack_handler = None
    wiring = Wiring(settings, engine)  # its adapters are built on first use
    app.state.identity = lambda: wiring.identity  # GitHub's OAuth for "Sign in with GitHub"
    app.include_router(health.router)
    app.include_router(github.router)
    app.include_router(slack.router)
    app.include_router(dashboard.router)
    app.include_router(metrics.router)

    secret = settings.slack_signing_secret
    # A blank secret is no secret (the SDK's verifier refuses one): /slack/* answers 503.
    if secret is not None and secret.get_secret_value().strip():
        app.state.slack_handler = slack.request_handler(settings, intake)
        app.state.slack_verifier = slack_verifier or slack.SlackSignature(secret.get_secret_value())
    return app
