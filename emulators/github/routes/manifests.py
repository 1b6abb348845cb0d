"""The GitHub App manifest flow and an App's installations.

The flow (docs.github.com, "Registering a GitHub App from a manifest"): a browser POSTs a form
with the `manifest` JSON to `/settings/apps/new?state=…` (or `/organizations/{org}/…`); on
github.com the person names the App and clicks Create, here that click is implied. GitHub then
redirects to the manifest's `redirect_url` with a temporary `code` (and the `state`), which
`POST /app-manifests/{code}/conversions` exchanges, once and within an hour, for the App's id,
private key (`pem`), webhook secret and client secret.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode

from cryptography.hazmat.primitives import serialization

from emulators.github import render
from emulators.github.http import Ctx, HTTPError, Reply, invalid, not_found, route
from emulators.github.state import App, ManifestCode

CODE_LIFETIME = 3600  # seconds: "complete all three steps … within one hour"
LEVELS = {"read", "write", "admin"}
# The permission an App needs before it may subscribe to an event (GitHub refuses the others).
EVENT_PERMISSION = {
    "issues": "issues",
    "issue_comment": "issues",
    "label": "issues",
    "milestone": "issues",
    "pull_request": "pull_requests",
    "pull_request_review": "pull_requests",
    "pull_request_review_comment": "pull_requests",
    "pull_request_review_thread": "pull_requests",
    "check_run": "checks",
    "check_suite": "checks",
    "status": "statuses",
    "push": "contents",
    "create": "contents",
    "delete": "contents",
    "release": "contents",
    "commit_comment": "contents",
    "repository": "metadata",
    "public": "metadata",
    "star": "metadata",
    "watch": "metadata",
    "fork": "metadata",
}
# Sent to every App without a subscription; a manifest may not ask for them.
ALWAYS_SENT = {"installation", "installation_repositories"}


def _signed_in_login(ctx: Ctx) -> str:
    """Who clicks Create: the emulator's first person (a browser session has no token here)."""
    people = [user for user in ctx.emulator.users.values() if user.type == "User"]
    return people[0].login if people else ctx.emulator.user("octocat").login


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and re.match(r"https?://[^\s/]+", value) is not None


def parse_manifest(raw: str) -> dict[str, Any]:
    """The manifest as GitHub checks it before showing the Create page; 422 saying what is wrong."""
    try:
        manifest = json.loads(raw)
    except ValueError as error:
        raise invalid("Invalid manifest: not JSON") from error
    if not isinstance(manifest, dict):
        raise invalid("Invalid manifest: not a JSON object")
    name = manifest.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 34:
        raise invalid("Name must be 1 to 34 characters", resource="Integration", field="name")
    if not _is_url(manifest.get("url")):
        raise invalid("Homepage URL is not a valid URL", resource="Integration", field="url")
    for key in ("redirect_url", "setup_url"):
        if key in manifest and not _is_url(manifest[key]):
            raise invalid(f"{key} is not a valid URL", resource="Integration", field=key)
    hook = manifest.get("hook_attributes")
    if hook is not None and (not isinstance(hook, dict) or not _is_url(hook.get("url"))):
        raise invalid("Webhook URL is not a valid URL", resource="Integration", field="hook_url")
    permissions = manifest.get("default_permissions") or {}
    if not isinstance(permissions, dict) or not set(permissions.values()) <= LEVELS:
        raise invalid("Default permissions must map names to read, write or admin")
    events = manifest.get("default_events") or []
    if not isinstance(events, list) or not all(isinstance(event, str) for event in events):
        raise invalid("Default events must be a list of event names")
    for event in events:
        needs = EVENT_PERMISSION.get(event)
        if event in ALWAYS_SENT or needs is None:
            raise invalid(f"Default events unsupported: {event}")
        if needs != "metadata" and needs not in permissions:
            raise invalid(f"Default events {event} requires the {needs} permission")
    return manifest


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _register(ctx: Ctx, owner: str) -> Reply:
    form = parse_qs(ctx.raw_body.decode("utf-8", "replace"))
    if "manifest" not in form:
        raise invalid("A manifest is required", resource="Integration", field="manifest")
    manifest = parse_manifest(form["manifest"][0])
    slug = _slug(manifest["name"])
    if any(app.slug == slug for app in ctx.emulator.apps.values()):
        raise invalid("Name is already in use", resource="Integration", field="name")
    permissions = {"metadata": "read", **manifest.get("default_permissions", {})}
    app = ctx.emulator.add_app(
        slug=slug, name=manifest["name"], owner=owner, permissions=permissions
    )
    app.events = list(manifest.get("default_events") or [])
    app.created_at = ctx.emulator.now()
    app.manifest = ManifestCode(
        code=secrets.token_hex(10),
        issued_at=ctx.emulator.clock(),
        client_secret=secrets.token_hex(20),
        webhook_secret=secrets.token_hex(20) if manifest.get("hook_attributes") else None,
        description=manifest.get("description"),
        external_url=manifest["url"],
    )
    target = manifest.get("redirect_url") or f"{ctx.api}/settings/apps/{slug}"
    query = {"code": app.manifest.code}
    if "state" in ctx.query:
        query["state"] = ctx.query["state"]
    separator = "&" if "?" in target else "?"
    return Reply(302, None, {"Location": f"{target}{separator}{urlencode(query)}"})


@route("POST", "/settings/apps/new")
def new_user_app(ctx: Ctx) -> Reply:
    return _register(ctx, _signed_in_login(ctx))


@route("POST", "/organizations/{org}/settings/apps/new")
def new_org_app(ctx: Ctx) -> Reply:
    org = ctx.emulator.users.get(ctx.params["org"])
    if org is None or org.type != "Organization":
        raise not_found()
    return _register(ctx, org.login)


def _rsa_pem(app: App) -> str:
    """The key as GitHub hands it out: PKCS#1, `BEGIN RSA PRIVATE KEY`."""
    key = serialization.load_pem_private_key(app.private_key_pem or b"", password=None)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def installations_count(ctx: Ctx, app: App) -> int:
    return sum(1 for i in ctx.emulator.installations.values() if i.app.id == app.id)


@route("POST", "/app-manifests/{code}/conversions")
def create_from_manifest(ctx: Ctx) -> Reply:
    code = ctx.params["code"]
    app = next(
        (
            app
            for app in ctx.emulator.apps.values()
            if app.manifest is not None and secrets.compare_digest(app.manifest.code, code)
        ),
        None,
    )
    if app is None or app.manifest is None or app.manifest.used:
        raise not_found()
    if ctx.emulator.clock() - app.manifest.issued_at > CODE_LIFETIME:
        raise not_found()
    app.manifest.used = True
    body = render.app(ctx.api, app)
    body.update(
        description=app.manifest.description,
        external_url=app.manifest.external_url,
        installations_count=installations_count(ctx, app),
        client_secret=app.manifest.client_secret,
        webhook_secret=app.manifest.webhook_secret,
        pem=_rsa_pem(app),
    )
    return Reply(201, body)


@route("GET", "/app/installations")
def list_installations(ctx: Ctx) -> Reply:
    app = ctx.principal.app
    if app is None:
        raise HTTPError(401, "A JSON web token could not be decoded")
    mine = [i for i in ctx.emulator.installations.values() if i.app.id == app.id]
    return Reply(body=[render.installation(ctx.api, i) for i in ctx.page(mine)])
