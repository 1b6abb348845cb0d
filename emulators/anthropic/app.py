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


def create_app(emulator: AnthropicEmulator | None = None) -> Starlette:
    """An ASGI app serving `emulator`; by default one that accepts any non-empty API key and
    answers every message with a short fixed text (no script loaded).

    The emulator is reachable as `app.state.emulator`.
    """
    emulator = emulator or AnthropicEmulator()

    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        reply = emulator.handle(request.method, request.url.path, request.headers, raw)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        return _response(reply)

    app = Starlette(
        routes=[Route("/{path:path}", endpoint, methods=["GET", "POST", "PUT", "DELETE"])]
    )
    app.state.emulator = emulator
    return app


def _response(reply: Reply) -> Response:
    if reply.events is None:
        return JSONResponse(reply.body, status_code=reply.status, headers=reply.headers)
    events = reply.events

    async def stream() -> AsyncIterator[bytes]:
        for event in events:
            yield sse.encode(event)

    return StreamingResponse(
        stream(),
        status_code=reply.status,
        headers=reply.headers,
        media_type="text/event-stream; charset=utf-8",
    )
