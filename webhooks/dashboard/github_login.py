""" "Sign in with GitHub" for the dashboard: GitHub's OAuth web flow.

`/dashboard/login/github` sends the browser to GitHub's authorize page with a `state` signed by
itsdangerous (where to go after, and a nonce also kept in a short-lived cookie, so a callback
started in another browser is refused). The callback checks both, exchanges the code for a
token, asks `GET /user` who it is, and lets in only people with write, maintain or admin on a
repository the App is installed on (asked of the App's installation API). The person's token is
dropped at once; the session is the dashboard's own signed cookie.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from itsdangerous import BadData, URLSafeTimedSerializer

from bot.ports.identity import OAuthFailed
from webhooks.dashboard.auth import PREFIX, safe_next
from webhooks.dashboard.render import HEADERS, page
from webhooks.dashboard.routes import SETTING, github_sign_in, router, sessions_key, signed_in

STATE_COOKIE = "repocrew_oauth_state"
STATE_SECONDS = 600  # as long as GitHub's code lives
_SALT = "repocrew-dashboard-oauth-state"


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(sessions_key(request) or b"", salt=_SALT)


def _callback(request: Request) -> str:
    return str(request.url_for("github_callback"))


def _refused(request: Request, why: str, status: int = 403) -> Response:
    return page(request, "refused.html", status=status, why=why)


@router.get("/login/github")
def github_login(request: Request, next: str | None = None) -> Response:
    identity = request.app.state.identity()
    if not github_sign_in(request) or identity is None:
        return page(request, "off.html", status=404, setting=SETTING)
    nonce = secrets.token_urlsafe(16)
    state = _serializer(request).dumps({"next": safe_next(next), "nonce": nonce})
    target = identity.authorize_url(redirect_uri=_callback(request), state=state)
    response = RedirectResponse(target, 303, headers=HEADERS)
    response.set_cookie(
        STATE_COOKIE,
        nonce,
        max_age=STATE_SECONDS,
        path=PREFIX,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",  # sent on GitHub's top-level redirect back to us
    )
    return response


@router.get("/login/github/callback", name="github_callback")
def github_callback(request: Request, code: str = "", state: str = "") -> Response:
    identity = request.app.state.identity()
    if not github_sign_in(request) or identity is None:
        return page(request, "off.html", status=404, setting=SETTING)
    try:
        data: Any = _serializer(request).loads(state, max_age=STATE_SECONDS)
    except BadData:
        return _refused(request, "The sign-in link is stale or was not made here.", 400)
    nonce = request.cookies.get(STATE_COOKIE, "")
    if not isinstance(data, dict) or not secrets.compare_digest(str(data.get("nonce")), nonce):
        return _refused(request, "This sign-in was started in another browser.", 400)
    if not code:
        return _refused(request, "GitHub did not sign you in (no code came back).", 400)
    try:
        person = identity.exchange_code(code=code, redirect_uri=_callback(request))
        where = identity.writer_somewhere(person.login)
    except OAuthFailed as error:
        return _refused(request, f"GitHub did not confirm who you are: {error}.", 502)
    if where is None:
        why = (
            f"You are @{person.login} on GitHub, without write access to any repository "
            "the crew's App is installed on."
        )
        return _refused(request, why)
    response = signed_in(request, safe_next(data.get("next")))
    response.delete_cookie(STATE_COOKIE, path=PREFIX)
    return response
