"""The request context handlers get, their reply type, HTTP errors and `Link` pagination."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode

from emulators.github import hooks, render
from emulators.github.auth import Principal
from emulators.github.emulator import GitHubEmulator
from emulators.github.state import Repository

T = TypeVar("T")
Handler = Callable[["Ctx"], "Reply"]
ROUTES: list[tuple[str, str, Handler]] = []


def route(method: str, path: str) -> Callable[[Handler], Handler]:
    """Register a handler for `method` on a Starlette path template."""

    def register(handler: Handler) -> Handler:
        ROUTES.append((method, path, handler))
        return handler

    return register


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None  # a body that is not JSON (web pages, form-encoded answers)
    media_type: str | None = None


class HTTPError(Exception):
    def __init__(self, code: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = code
        self.body = render.error(message, **extra)


def not_found() -> HTTPError:
    return HTTPError(404, "Not Found")


def invalid(message: str = "Validation Failed", **error: Any) -> HTTPError:
    errors = [error] if error else []
    return HTTPError(422, message, errors=errors, status="422")


@dataclass
class Ctx:
    emulator: GitHubEmulator
    principal: Principal
    api: str  # base URL of the API, e.g. http://127.0.0.1:43121
    url: str  # the request URL without query
    params: dict[str, str]
    query: dict[str, str]
    raw_body: bytes
    link: str | None = None
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    cookies: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        if not self.raw_body:
            return {}
        try:
            data = json.loads(self.raw_body)
        except ValueError as error:
            raise HTTPError(400, "Problems parsing JSON") from error
        if not isinstance(data, dict):
            raise HTTPError(400, "Problems parsing JSON")
        return data

    def require(self, data: dict[str, Any], *names: str) -> None:
        for name in names:
            if data.get(name) in (None, ""):
                raise invalid(resource="Body", field=name, code="missing_field")

    def repo(self, *, read: str | None = None, write: str | None = None) -> Repository:
        """The repository of the path, if the caller may see it (a token minted for other
        repositories may not: 404), and read what `read` names or change what `write` names
        (app permissions such as "issues"; an installation token without it: 403)."""
        repo = self.emulator.repo(f"{self.params['owner']}/{self.params['repo']}")
        if repo is None or not self.principal.can_see(repo):
            raise not_found()
        if read and not self.principal.can_read(repo, read):
            raise HTTPError(403, "Resource not accessible by integration")
        if write and not self.principal.can_write(repo, write):
            if self.principal.kind == "anonymous":
                raise HTTPError(401, "Requires authentication")
            raise HTTPError(
                403,
                "Resource not accessible by integration"
                if self.principal.installation
                else "Must have push access",
            )
        return repo

    def notify(self, event: str, action: str, repo: Repository, **fields: Any) -> None:
        """Queue the webhook this change sends: `fields` plus repository, sender, installation.

        Nothing is sent without a webhook target, nor when the target's app (if it names one)
        is not installed on `repo`, as GitHub delivers only to installed apps.
        """
        webhooks = self.emulator.webhooks
        if not webhooks.enabled:
            return
        installation = self.emulator.installation_for(repo, webhooks.app_id)
        if installation is None and webhooks.app_id is not None:
            return
        payload = hooks.envelope(
            self.api, action, fields, repo=repo, sender=self.actor(), installation=installation
        )
        if installation is None:
            webhooks.send(event, payload, target_type="repository", target_id=repo.id)
        else:
            target = installation.app.id
            webhooks.send(event, payload, target_type="integration", target_id=target)

    def actor(self):
        actor = self.principal.actor
        if actor is None:
            raise HTTPError(401, "Requires authentication")
        return actor

    def page(self, items: Sequence[T]) -> list[T]:
        """The requested page of `items`; sets the `Link` header GitHub sends."""
        try:
            per_page = min(max(int(self.query.get("per_page", 30)), 1), 100)
            page = max(int(self.query.get("page", 1)), 1)
        except ValueError as error:
            raise invalid("Invalid pagination parameter") from error
        last = max((len(items) + per_page - 1) // per_page, 1)
        links = []

        def href(number: int) -> str:
            return f"{self.url}?{urlencode({**self.query, 'per_page': per_page, 'page': number})}"

        if page < last:
            links += [f'<{href(page + 1)}>; rel="next"', f'<{href(last)}>; rel="last"']
        if page > 1:
            links += [f'<{href(1)}>; rel="first"', f'<{href(min(page - 1, last))}>; rel="prev"']
        self.link = ", ".join(links) or None
        return list(items[(page - 1) * per_page : page * per_page])
