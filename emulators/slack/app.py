"""The HTTP face of the emulator: `POST|GET /api/<method>` as Slack's Web API takes it."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from .emulator import SlackEmulator


class _BadBody(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


async def _arguments(request: Request) -> dict:
    """Query string plus form or JSON body, as Slack merges them."""
    args: dict = dict(request.query_params)
    body = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not body:
        return args
    if content_type == "application/json":
        try:
            data = json.loads(body)
        except ValueError as error:
            raise _BadBody("invalid_json") from error
        if not isinstance(data, dict):
            raise _BadBody("json_not_object")
        args.update(data)
    elif content_type in ("application/x-www-form-urlencoded", ""):
        args.update(parse_qsl(body.decode(), keep_blank_values=True))
    else:
        raise _BadBody("invalid_form_data")
    return args


def _token(request: Request, args: dict) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        args.pop("token", None)
        return header[7:].strip() or None
    token = args.pop("token", None)
    return str(token) if token else None


def create_app(emulator: SlackEmulator | None = None) -> Starlette:
    """An ASGI app serving `emulator` (a default one when omitted; see `seed_default`)."""
    emulator = emulator or SlackEmulator()

    async def api(request: Request) -> Response:
        method = request.path_params["method"]
        try:
            args = await _arguments(request)
        except _BadBody as bad:
            return JSONResponse({"ok": False, "error": bad.code})
        reply = emulator.dispatch(method, _token(request, args), args)
        return JSONResponse(reply.body, status_code=reply.status, headers=reply.headers)

    async def transcript(request: Request) -> Response:
        return PlainTextResponse(emulator.render_transcript())

    app = Starlette(
        routes=[
            Route("/api/{method}", api, methods=["GET", "POST"]),
            Route("/_emulator/transcript", transcript, methods=["GET"]),
        ]
    )
    app.state.emulator = emulator
    return app
