"""Compose the ASGI app: routes, authentication, rate-limit/ETag/request-id headers, faults."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulators.github import render, smart_http
from emulators.github.auth import AuthError, Principal, authenticate
from emulators.github.emulator import GitHubEmulator
from emulators.github.http import ROUTES, Ctx, Handler, HTTPError, Reply
from emulators.github.ratelimit import rate_limit
from emulators.github.routes import load_all

UNCOUNTED = {"/rate_limit"}


def create_app(emulator: GitHubEmulator | None = None) -> Starlette:
    """The API of `emulator`, and its repositories over git's smart HTTP; with no argument,
    `GitHubEmulator.with_defaults()` (see its doc), which takes its `base_url` from the first
    API request (a standalone server cannot know its own address otherwise)."""
    learn = emulator is None
    emulator = emulator or GitHubEmulator.with_defaults()
    load_all()
    routes = [
        Route(path, _endpoint(emulator, handler, learn=learn), methods=[method])
        for method, path, handler in ROUTES
    ]
    app = Starlette(routes=[*routes, smart_http.route(emulator)])
    app.state.emulator = emulator
    return app


def _endpoint(emulator: GitHubEmulator, handler: Handler, *, learn: bool):
    async def endpoint(request: Request) -> Response:
        if learn and emulator.base_url is None:
            emulator.base_url = str(request.base_url)
        fault = emulator.faults.take(request.method, request.url.path)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status is not None:
                return _respond(emulator, None, Reply(fault.status, fault.body, fault.headers))
        raw_body = await request.body()
        try:
            principal = authenticate(emulator, request.headers.get("authorization"))
        except AuthError as error:
            return _respond(emulator, None, Reply(401, render.error(error.message)))
        ctx = Ctx(
            emulator=emulator,
            principal=principal,
            api=str(request.base_url).rstrip("/"),
            url=str(request.url.replace(query="")),
            params=dict(request.path_params),
            query=dict(request.query_params),
            raw_body=raw_body,
            headers=dict(request.headers),
            cookies=dict(request.cookies),
        )
        if request.url.path not in UNCOUNTED:
            _count(emulator, principal)
        try:
            reply = await run_in_threadpool(_locked, emulator, handler, ctx)
        except HTTPError as error:
            reply = Reply(error.status, error.body)
        if ctx.link:
            reply.headers["Link"] = ctx.link
        response = _respond(emulator, principal, reply)
        if (
            request.method == "GET"
            and reply.status == 200
            and request.headers.get("if-none-match") == response.headers.get("etag")
        ):
            return Response(status_code=304, headers=dict(response.headers))
        return response

    return endpoint


def _locked(emulator: GitHubEmulator, handler: Handler, ctx: Ctx) -> Reply:
    with emulator.lock:
        return handler(ctx)


def _count(emulator: GitHubEmulator, principal: Principal) -> None:
    with emulator.lock:
        emulator.rate_used[principal.key] = emulator.rate_used.get(principal.key, 0) + 1


def _respond(emulator: GitHubEmulator, principal: Principal | None, reply: Reply) -> Response:
    content = b"" if reply.body is None else json.dumps(reply.body).encode()
    content = content if reply.content is None else reply.content
    limits = rate_limit(emulator, principal)
    headers = {
        "X-GitHub-Request-Id": uuid.uuid4().hex[:20].upper(),
        "X-GitHub-Media-Type": "github.v3; format=json",
        "X-RateLimit-Limit": str(limits["limit"]),
        "X-RateLimit-Remaining": str(limits["remaining"]),
        "X-RateLimit-Reset": str(limits["reset"]),
        "X-RateLimit-Used": str(limits["used"]),
        "X-RateLimit-Resource": "core",
    }
    if reply.status < 300:
        headers["ETag"] = f'W/"{hashlib.sha256(content).hexdigest()[:32]}"'
    headers.update(reply.headers)
    if reply.status == 204:
        return Response(status_code=204, headers=headers)
    if reply.content is not None:
        return Response(reply.content, reply.status, headers=headers, media_type=reply.media_type)
    return Response(
        content,
        status_code=reply.status,
        headers=headers,
        media_type="application/json; charset=utf-8",
    )
