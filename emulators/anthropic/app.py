"""The HTTP edge: a Starlette app that hands each request to an `AnthropicEmulator`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from emulators.anthropic import sse
from emulators.anthropic.emulator import AnthropicEmulator, Reply
from emulators.anthropic.faults import error_body

# What GET /v1/models lists (newest first, as the API orders them).
MODELS = ("claude-opus-4-6", "claude-sonnet-4-6", "claude-haiku-4-5")
MODELS_CREATED_AT = "2025-11-01T00:00:00Z"


def create_app(emulator: AnthropicEmulator | None = None) -> Starlette:
    """An ASGI app serving `emulator`; by default one that accepts any non-empty API key and
    answers every message with a short fixed text (no script loaded). It also lists `MODELS`
    at GET /v1/models, which `repocrew doctor` asks.

    The emulator is reachable as `app.state.emulator`.
    """
    emulator = emulator or AnthropicEmulator()

    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        reply = emulator.handle(request.method, request.url.path, request.headers, raw)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        return _response(reply)

    async def list_models(request: Request) -> Response:
        # The one GET the SDK's `models.list()` sends: operators' reachability checks use it.
        headers = request.headers
        key = headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ")
        if not key or (emulator.api_keys is not None and key not in emulator.api_keys):
            body = error_body("authentication_error", "invalid x-api-key", emulator.new_id("req_"))
            return JSONResponse(body, status_code=401, headers={"x-should-retry": "false"})
        return JSONResponse(models_page())

    listing = [Route("/v1/models", list_models, methods=["GET"])]
    app = Starlette(
        routes=[*listing, Route("/{path:path}", endpoint, methods=["GET", "POST", "PUT", "DELETE"])]
    )
    app.state.emulator = emulator
    return app


def models_page() -> dict:
    """GET /v1/models's one page, in the API's shape."""
    data = [
        {"type": "model", "id": model, "display_name": model, "created_at": MODELS_CREATED_AT}
        for model in MODELS
    ]
    return {"data": data, "has_more": False, "first_id": MODELS[0], "last_id": MODELS[-1]}


def _response(reply: Reply) -> Response:
    if reply.events is None:
        return JSONResponse(reply.body, status_code=reply.status, headers=reply.headers)
    events = reply.events

    stall = reply.stall

    async def stream() -> AsyncIterator[bytes]:
        for event in events:
            yield sse.encode(event)
        if stall is not None:
            await asyncio.sleep(stall.seconds)
            # Raising mid-body makes the server drop the connection, as a cut stream does.
            raise ConnectionAbortedError("the emulated stream stalled and was cut")

    return StreamingResponse(
        stream(),
        status_code=reply.status,
        headers=reply.headers,
        media_type="text/event-stream; charset=utf-8",
    )
