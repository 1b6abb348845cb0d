"""GET /healthz (the process is up) and GET /readyz (the store answers and is migrated)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response

from bot.store.engine import ping
from bot.store.migrate import current_revision, head_revision
from webhooks.intake import json_response

router = APIRouter()


@router.get("/healthz")
async def healthz() -> Response:
    return json_response(200, {"status": "ok"})


def _store_state(engine) -> tuple[bool, str]:
    try:
        ping(engine)
        current, head = current_revision(engine), head_revision()
    except Exception as error:  # noqa: BLE001 - any failure means "not ready", with the reason
        return False, f"store unreachable: {error.__class__.__name__}"
    if current != head:
        return False, f"migrations not current: at {current}, head is {head}"
    return True, f"store reachable, schema at {head}"


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    ready, reason = await asyncio.to_thread(_store_state, request.app.state.engine)
    return json_response(200 if ready else 503, {"ready": ready, "reason": reason})
