"""OAuth on github.com: authorize (web flow), the device flow, access tokens, and `GET /user`.

Shapes from docs.github.com ("Authorizing OAuth apps"): `POST /login/device/code` and
`POST /login/oauth/access_token` answer form-encoded by default, JSON with
`Accept: application/json`, XML with `Accept: application/xml`; errors are HTTP 200 with
`error`, `error_description` and `error_uri`. Parameters may come in the query, a form body or
a JSON body (PyGithub sends JSON). The browser's side (sign in, authorize, enter a user code)
is a cookie session; approving is implied once signed in, as for the manifest flow.
"""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import parse_qsl, urlencode

from emulators.github import render
from emulators.github.http import Ctx, HTTPError, Reply, route
from emulators.github.oauth import (
    DEVICE_LIFETIME,
    SESSION_COOKIE,
    SLOW_DOWN_STEP,
    OAuthApp,
    user_token,
)
from emulators.github.state import User

DOCS = "https://docs.github.com/apps/oauth-apps/maintaining-oauth-apps/"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
ERRORS = {
    "incorrect_client_credentials": "The client_id and/or client_secret passed are incorrect.",
    "redirect_uri_mismatch": "The redirect_uri MUST match the registered callback URL for this "
    "application.",
    "bad_verification_code": "The code passed is incorrect or expired.",
    "unsupported_grant_type": "The grant type must be urn:ietf:params:oauth:grant-type:"
    "device_code.",
    "incorrect_device_code": "The device_code provided is not valid.",
    "authorization_pending": "The authorization request is still pending.",
    "slow_down": "Too many requests have been made in the same timeframe.",
    "expired_token": "The device_code has expired.",
    "access_denied": "The authorization request was denied.",
    "device_flow_disabled": "Device flow has not been enabled for this app.",
}


def params(ctx: Ctx) -> dict[str, str]:
    """The query, then the body: JSON when it says so, else a form."""
    found = dict(ctx.query)
    text = ctx.raw_body.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as error:
            raise HTTPError(400, "Problems parsing JSON") from error
        found.update({str(k): str(v) for k, v in data.items() if v is not None})
    elif text:
        found.update(parse_qsl(text, keep_blank_values=True))
    return found


def answer(ctx: Ctx, fields: dict[str, Any]) -> Reply:
    """Form-encoded, JSON or XML, as the `Accept` header asks."""
    accept = ctx.headers.get("accept", "")
    if "application/json" in accept:
        return Reply(body=fields)
    if "application/xml" in accept:
        items = "".join(f"<{k}>{html.escape(str(v))}</{k}>" for k, v in fields.items())
        return Reply(content=f"<OAuth>{items}</OAuth>".encode(), media_type="application/xml")
    form = urlencode({k: str(v) for k, v in fields.items()})
    return Reply(content=form.encode(), media_type="application/x-www-form-urlencoded")


def oauth_error(ctx: Ctx, code: str, **extra: Any) -> Reply:
    anchor = code.replace("_", "-")
    fields = {"error": code, "error_description": ERRORS[code], "error_uri": f"{DOCS}#{anchor}"}
    return answer(ctx, {**fields, **extra})


def page(status: int, title: str, body: str, headers: dict[str, str] | None = None) -> Reply:
    text = f"<!doctype html><title>{html.escape(title)}</title><h1>{html.escape(title)}</h1>"
    return Reply(
        status, headers=headers or {}, content=(text + body).encode(), media_type="text/html"
    )


def signed_in(ctx: Ctx) -> User | None:
    return ctx.emulator.oauth.sessions.get(ctx.cookies.get(SESSION_COOKIE, ""))


def to_login(ctx: Ctx, back: str) -> Reply:
    return Reply(302, headers={"Location": f"{ctx.api}/login?{urlencode({'return_to': back})}"})


@route("GET", "/")
def home(ctx: Ctx) -> Reply:
    user = signed_in(ctx)
    return page(200, f"Signed in as {user.login}" if user else "GitHub", "")


@route("GET", "/login")
def login_page(ctx: Ctx) -> Reply:
    back = html.escape(ctx.query.get("return_to", "/"))
    form = (
        '<form method="post" action="/session"><input name="login"><input name="password" '
        f'type="password"><input type="hidden" name="return_to" value="{back}">'
        "<button>Sign in</button></form>"
    )
    return page(200, "Sign in to GitHub", form)


@route("POST", "/session")
def sign_in(ctx: Ctx) -> Reply:
    """Signs the browser in as `login` (the emulator keeps no passwords)."""
    form = params(ctx)
    user = ctx.emulator.users.get(form.get("login", ""))
    if user is None or user.type != "User":
        return page(422, "Incorrect username or password.", "")
    cookie = ctx.emulator.oauth.sign_in(user)
    back = form.get("return_to") or "/"
    back = back if back.startswith("/") and not back.startswith("//") else "/"
    headers = {"Location": back, "Set-Cookie": f"{SESSION_COOKIE}={cookie}; Path=/; HttpOnly"}
    return Reply(302, headers=headers)


def _client(ctx: Ctx, client_id: str | None) -> OAuthApp | None:
    return ctx.emulator.oauth.apps.get(client_id or "")


@route("GET", "/login/oauth/authorize")
def authorize(ctx: Ctx) -> Reply:
    app = _client(ctx, ctx.query.get("client_id"))
    if app is None:
        return page(404, "Not Found", "<p>No OAuth app has this client_id.</p>")
    user = signed_in(ctx)
    if user is None:
        return to_login(ctx, f"/login/oauth/authorize?{urlencode(ctx.query)}")
    redirect = ctx.query.get("redirect_uri") or app.callback_url
    state = {"state": ctx.query["state"]} if "state" in ctx.query else {}
    if redirect is None:
        return page(422, "The redirect_uri is missing", "")
    if app.callback_url and not redirect.startswith(app.callback_url):
        error = {
            "error": "redirect_uri_mismatch",
            "error_description": ERRORS["redirect_uri_mismatch"],
        }
        query = urlencode({**error, **state})
        return Reply(302, headers={"Location": f"{app.callback_url}?{query}"})
    grant = ctx.emulator.oauth.new_code(
        app, user, ctx.query.get("redirect_uri"), ctx.query.get("scope", ""), ctx.emulator.clock()
    )
    separator = "&" if "?" in redirect else "?"
    query = urlencode({"code": grant.code, **state})
    return Reply(302, headers={"Location": f"{redirect}{separator}{query}"})


@route("POST", "/login/device/code")
def device_code(ctx: Ctx) -> Reply:
    found = params(ctx)
    app = _client(ctx, found.get("client_id"))
    if app is None:
        return oauth_error(ctx, "incorrect_client_credentials")
    if not app.device_flow:
        return oauth_error(ctx, "device_flow_disabled")
    grant = ctx.emulator.oauth.new_device_grant(app, found.get("scope", ""), ctx.emulator.clock())
    return answer(
        ctx,
        {
            "device_code": grant.device_code,
            "user_code": grant.user_code,
            "verification_uri": f"{ctx.api}/login/device",
            "expires_in": DEVICE_LIFETIME,
            "interval": grant.interval,
        },
    )


@route("GET", "/login/device")
def device_page(ctx: Ctx) -> Reply:
    if signed_in(ctx) is None:
        return to_login(ctx, "/login/device")
    form = (
        '<form method="post" action="/login/device"><input name="user_code">'
        '<button name="authorize" value="1">Authorize</button>'
        '<button name="authorize" value="0">Cancel</button></form>'
    )
    return page(200, "Device Activation", form)


@route("POST", "/login/device")
def device_confirm(ctx: Ctx) -> Reply:
    """The signed-in person enters the user code and authorizes (or cancels)."""
    user = signed_in(ctx)
    if user is None:
        return to_login(ctx, "/login/device")
    form = params(ctx)
    grant = ctx.emulator.oauth.by_user_code(form.get("user_code", ""))
    if grant is None or grant.used or grant.expires_at <= ctx.emulator.clock():
        return page(422, "Incorrect or expired code", "")
    if form.get("authorize", "1") == "1":
        grant.user = user
        return page(
            200, "Congratulations, you're all set!", f"<p>{html.escape(grant.app.name)}</p>"
        )
    grant.denied = True
    return page(200, "Authorization cancelled", "")


@route("POST", "/login/oauth/access_token")
def access_token(ctx: Ctx) -> Reply:
    found = params(ctx)
    app = _client(ctx, found.get("client_id"))
    if app is None:
        return oauth_error(ctx, "incorrect_client_credentials")
    if "device_code" in found:
        return _device_token(ctx, app, found)
    if found.get("client_secret") != app.client_secret:
        return oauth_error(ctx, "incorrect_client_credentials")
    grant = ctx.emulator.oauth.codes.get(found.get("code", ""))
    now = ctx.emulator.clock()
    if grant is None or grant.used or grant.app is not app or grant.expires_at <= now:
        return oauth_error(ctx, "bad_verification_code")
    if grant.redirect_uri and found.get("redirect_uri", grant.redirect_uri) != grant.redirect_uri:
        return oauth_error(ctx, "redirect_uri_mismatch")
    grant.used = True
    return _token(ctx, grant.user, grant.scope)


def _device_token(ctx: Ctx, app: OAuthApp, found: dict[str, str]) -> Reply:
    if found.get("grant_type") != DEVICE_GRANT:
        return oauth_error(ctx, "unsupported_grant_type")
    grant = ctx.emulator.oauth.devices.get(found["device_code"])
    if grant is None or grant.app is not app or grant.used:
        return oauth_error(ctx, "incorrect_device_code")
    now = ctx.emulator.clock()
    if grant.expires_at <= now:
        return oauth_error(ctx, "expired_token")
    if grant.denied:
        return oauth_error(ctx, "access_denied")
    too_soon = grant.last_poll is not None and now - grant.last_poll < grant.interval
    grant.last_poll = now
    if too_soon:
        grant.interval += SLOW_DOWN_STEP
        return oauth_error(ctx, "slow_down", interval=grant.interval)
    if grant.user is None:
        return oauth_error(ctx, "authorization_pending")
    grant.used = True
    return _token(ctx, grant.user, grant.scope)


def _token(ctx: Ctx, user: User, scope: str) -> Reply:
    token = user_token(user)
    ctx.emulator.tokens[token.token] = token
    return answer(ctx, {"access_token": token.token, "token_type": "bearer", "scope": scope})


@route("GET", "/user")
def authenticated_user(ctx: Ctx) -> Reply:
    user = ctx.principal.user
    if ctx.principal.kind != "user" or user is None:
        message = "Requires authentication"
        if ctx.principal.installation is not None:
            message = "Resource not accessible by integration"
        raise HTTPError(401 if ctx.principal.kind == "anonymous" else 403, message)
    body = render.user(ctx.api, user) or {}
    body.update(
        name=user.name,
        company=None,
        blog="",
        location=None,
        email=user.email,
        hireable=None,
        bio=None,
        twitter_username=None,
        public_repos=sum(1 for r in ctx.emulator.repos.values() if r.owner.id == user.id),
        public_gists=0,
        followers=0,
        following=0,
        created_at=user.created_at,
        updated_at=user.created_at,
    )
    return Reply(body=body)


@route("GET", "/user/{account_id:int}")
def user_by_id(ctx: Ctx) -> Reply:
    """A user by GitHub's id, which survives renames (the login does not)."""
    wanted = ctx.params["account_id"]
    found = next((u for u in ctx.emulator.users.values() if u.id == wanted), None)
    if found is None:
        raise HTTPError(404, "Not Found")
    return Reply(body=render.user(ctx.api, found))
