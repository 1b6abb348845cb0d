"""GET /dashboard/*: the read-only run dashboard, behind a login: "Sign in with GitHub" (for
people with write access on a repository the App is installed on; `github_login.py`) or the
operator's static token.

Neither configured means no dashboard: every path answers 404 naming the settings, so it is
never open by default. Pages read the store in FastAPI's thread pool (plain `def` handlers).
"""

from __future__ import annotations

import time
from typing import Annotated, Literal
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from bot.runs.links import github_web_url
from bot.runs.states import RunState
from bot.store.dashboard_jobs import JOB_STATES
from webhooks.dashboard.auth import (
    COOKIE,
    PREFIX,
    SESSION_SECONDS,
    new_session,
    safe_next,
    session_key,
    session_valid,
    token_matches,
)
from webhooks.dashboard.deliveries import deliveries_page
from webhooks.dashboard.jobs import job_page, jobs_page
from webhooks.dashboard.render import HEADERS, page, scanner
from webhooks.dashboard.runs import run_page, runs_page
from webhooks.dashboard.sprints import sprint_page
from webhooks.dashboard.team import team_page

router = APIRouter(prefix=PREFIX)
MAX_FORM_BYTES = 4096
SETTING = "REPOCREW_DASHBOARD_TOKEN"
JOB_STATE = f"^(?:{'|'.join(JOB_STATES)})?$"  # "" is the filter's "any"


def _token(request: Request) -> str | None:
    token = request.app.state.settings.dashboard_token
    return None if token is None else token.get_secret_value()


def github_sign_in(request: Request) -> bool:
    settings = request.app.state.settings
    return bool(settings.github_oauth_client_id and settings.github_oauth_client_secret)


def sessions_key(request: Request) -> bytes | None:
    """What sessions are signed from: the token and the OAuth client secret (changing either
    ends every session); None while neither way in is configured."""
    secret = request.app.state.settings.github_oauth_client_secret
    parts = [_token(request), secret.get_secret_value() if github_sign_in(request) else None]
    if not any(parts):
        return None
    return session_key("\0".join(part for part in parts if part))


def _refusal(request: Request) -> Response | None:
    """The answer for a visitor who may not see pages: off (404) or not logged in (to login)."""
    key = sessions_key(request)
    if key is None:
        return page(request, "off.html", status=404, setting=SETTING)
    if session_valid(key, request.cookies.get(COOKIE), now=time.time()):
        return None
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{PREFIX}/login?next={quote(here, safe='')}", 303, headers=HEADERS)


@router.get("")
def runs(
    request: Request,
    before: Annotated[int | None, Query(ge=1)] = None,
    state: RunState | Literal[""] = "",  # "" is the form's "any"
) -> Response:
    if (refusal := _refusal(request)) is not None:
        return refusal
    data = runs_page(request.app.state.engine, before=before, state=state or None)
    return page(request, "runs.html", current="runs", data=data, state=state, states=list(RunState))


@router.get("/runs/{run_id}")
def run(request: Request, run_id: int) -> Response:
    if (refusal := _refusal(request)) is not None:
        return refusal
    data = run_page(
        request.app.state.engine,
        run_id,
        redact=scanner(request).redact,
        web_url=github_web_url(request.app.state.settings),
    )
    if data is None:
        return page(request, "missing.html", status=404, what=f"run {run_id}")
    return page(request, "run.html", current="runs", data=data)


@router.get("/sprints/{sprint_id}")
def sprint(request: Request, sprint_id: int) -> Response:
    if (refusal := _refusal(request)) is not None:
        return refusal
    web_url = github_web_url(request.app.state.settings)
    data = sprint_page(request.app.state.engine, sprint_id, web_url=web_url)
    if data is None:
        return page(request, "missing.html", status=404, what=f"sprint {sprint_id}")
    return page(request, "sprint.html", current="runs", data=data)


@router.get("/team")
def team(request: Request, days: Annotated[int, Query(ge=1, le=365)] = 7) -> Response:
    if (refusal := _refusal(request)) is not None:
        return refusal
    data = team_page(request.app.state.engine, days=days, redact=scanner(request).redact)
    return page(request, "team.html", current="team", data=data)


@router.get("/deliveries")
def deliveries(
    request: Request,
    before: Annotated[int | None, Query(ge=1)] = None,
    source: Literal["github", "slack"] | None = None,
) -> Response:
    if (refusal := _refusal(request)) is not None:
        return refusal
    data = deliveries_page(
        request.app.state.engine, redact=scanner(request).redact, before=before, source=source
    )
    return page(request, "deliveries.html", current="deliveries", data=data)


@router.get("/jobs")
def jobs(
    request: Request,
    before: Annotated[int | None, Query(ge=1)] = None,
    state: Annotated[str, Query(pattern=JOB_STATE)] = "",
) -> Response:
    if (refusal := _refusal(request)) is not None:
        return refusal
    data = jobs_page(
        request.app.state.engine, redact=scanner(request).redact, state=state or None, before=before
    )
    limit = request.app.state.settings.job_max_attempts  # a job queued without its own
    return page(
        request, "jobs.html", current="jobs", data=data, states=JOB_STATES, workers_limit=limit
    )


@router.get("/jobs/{job_id}")
def job(request: Request, job_id: int) -> Response:
    if (refusal := _refusal(request)) is not None:
        return refusal
    data = job_page(request.app.state.engine, job_id, redact=scanner(request).redact)
    if data is None:
        return page(request, "missing.html", status=404, what=f"job {job_id}")
    limit = request.app.state.settings.job_max_attempts
    return page(request, "job.html", current="jobs", data=data, workers_limit=limit)


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    if sessions_key(request) is None:
        return page(request, "off.html", status=404, setting=SETTING)
    return page(request, "login.html", next=safe_next(next), failed=False, **_ways(request))


def _ways(request: Request) -> dict[str, bool]:
    return {"token_login": _token(request) is not None, "github": github_sign_in(request)}


@router.post("/login")
async def login(request: Request) -> Response:
    token = _token(request)
    if token is None:
        return page(request, "off.html", status=404, setting=SETTING)
    body = await request.body()
    ways = _ways(request)
    if len(body) > MAX_FORM_BYTES:
        return page(request, "login.html", status=413, next=PREFIX, failed=True, **ways)
    form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    target = safe_next(form.get("next"))
    if not token_matches(form.get("token", ""), token):
        return page(request, "login.html", status=401, next=target, failed=True, **ways)
    return signed_in(request, target)


def signed_in(request: Request, target: str) -> Response:
    """Where the visitor was going, with a new session cookie."""
    response = RedirectResponse(target, 303, headers=HEADERS)
    response.set_cookie(
        COOKIE,
        new_session(sessions_key(request) or b"", now=time.time()),
        max_age=SESSION_SECONDS,
        path=PREFIX,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    response = RedirectResponse(f"{PREFIX}/login", 303, headers=HEADERS)
    response.delete_cookie(COOKIE, path=PREFIX, httponly=True, samesite="lax")
    return response
