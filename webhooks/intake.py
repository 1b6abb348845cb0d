"""Helpers shared by the GitHub and Slack intakes: bounded body reads and quick JSON answers."""

from __future__ import annotations

import orjson
from fastapi import Request, Response


class BodyTooLarge(Exception):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing anything over `limit` bytes without reading all of it."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit():
        if int(declared) > limit:
            raise BodyTooLarge(f"body of {declared} bytes is over the {limit}-byte limit")
        return await request.body()  # the server stops at the declared length
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"body is over the {limit}-byte limit")
        chunks.append(chunk)
    body = b"".join(chunks)
    # Starlette caches the body here; later readers (slack-bolt's adapter) get it from the cache.
    request._body = body
    return body


def json_response(status: int, content: dict) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type="application/json")
