"""GitHub App authentication: the App's JWT and installation tokens, cached until near expiry.

PyGithub signs the JWT (RS256, issued 60 s in the past so a slow clock is forgiven, valid for
five minutes where GitHub allows ten) and trades it for an installation token. Each token is
minted for one repository and one access level (`access.py`); GitHub's tokens last an hour,
and this module keeps one per installation, repository and access, and asks for a new one
`refresh_margin` seconds before it runs out, so a git push never starts on a dying token.
Tokens are secrets: nothing here logs them or shows them in a repr.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import github
from github import Auth, Consts
from urllib3 import Retry

from bot.github.access import Access, token_request

JWT_ISSUED_AT = -60  # seconds relative to now: GitHub's own advice against clock drift
JWT_EXPIRY = 300  # seconds; GitHub refuses JWTs that live longer than 600


@dataclass(frozen=True)
class _Token:
    value: str = field(repr=False)
    expires_at: float  # Unix time


class InstallationAuth:
    """Installation tokens of one GitHub App, cached per installation, repository and access.

    One instance per App, so its cache is keyed by (app id, installation id) in effect.
    `clock` returns Unix time (tests share one with the emulator to expire tokens).
    """

    def __init__(
        self,
        app_id: int,
        private_key: str,
        *,
        base_url: str = Consts.DEFAULT_BASE_URL,
        refresh_margin: float = 300.0,
        clock: Callable[[], float] = time.time,
        timeout: int = Consts.DEFAULT_TIMEOUT,
        retry: int | Retry | None = None,
    ) -> None:
        self.app_id = app_id
        self.refresh_margin = refresh_margin
        self._clock = clock
        self._app_auth = Auth.AppAuth(
            app_id, private_key, jwt_expiry=JWT_EXPIRY, jwt_issued_at=JWT_ISSUED_AT
        )
        self._integration = github.GithubIntegration(
            auth=self._app_auth,
            base_url=base_url,
            timeout=timeout,
            retry=retry,
            seconds_between_requests=None,
            seconds_between_writes=None,
        )
        self._tokens: dict[tuple[int, str, Access], _Token] = {}
        self._installations: dict[str, int] = {}
        self._slug: str | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"InstallationAuth(app_id={self.app_id})"

    def close(self) -> None:
        self._integration.close()

    def token_for(self, installation_id: int, repo: str | None, access: Access) -> str:
        """A token of the installation for `repo` (`owner/name`) with `access`'s permissions
        only, valid for at least `refresh_margin` more seconds (cached per repo and access)."""
        key = (installation_id, (repo or "").lower() if access.per_repository else "", access)
        with self._lock:
            cached = self._tokens.get(key)
            if cached is None or cached.expires_at - self.refresh_margin <= self._clock():
                cached = self._mint(installation_id, token_request(repo, access))
                self._tokens[key] = cached
            return cached.value

    def _mint(self, installation_id: int, body: dict[str, Any]) -> _Token:
        _, data = self._integration.requester.requestJsonAndCheck(
            "POST",
            f"/app/installations/{installation_id}/access_tokens",
            headers={"Accept": "application/vnd.github+json"},
            input=body,
        )
        expires = datetime.fromisoformat(str(data["expires_at"]).replace("Z", "+00:00"))
        return _Token(str(data["token"]), expires.timestamp())

    def forget(self, installation_id: int, token: str | None = None) -> None:
        """Drop the installation's cached tokens (GitHub refused one: revoked, or our clock
        runs late), so the next requests mint new ones; with `token`, only that one."""
        with self._lock:
            for key, cached in list(self._tokens.items()):
                if key[0] == installation_id and token in (None, cached.value):
                    del self._tokens[key]

    def auth_for(self, installation_id: int, repo: str | None, access: Access) -> Auth.Auth:
        """A PyGithub `Auth` sending the current token for `repo` and `access` on each request."""
        return _InstallationToken(self, installation_id, repo, access)

    def installation_for_repo(self, full_name: str) -> int:
        """The id of this App's installation on `owner/name` (404 if it is not installed)."""
        key = full_name.lower()
        with self._lock:
            if key not in self._installations:
                owner, name = full_name.split("/", 1)
                installation = self._integration.get_repo_installation(owner, name)
                self._installations[key] = installation.id
            return self._installations[key]

    def installation_ids(self) -> list[int]:
        """The ids of this App's installations (`GET /app/installations`, with the JWT)."""
        return [installation.id for installation in self._integration.get_installations()]

    @property
    def bot_login(self) -> str:
        """The login GitHub shows on what the App posts, e.g. `repocrew[bot]`."""
        with self._lock:
            if self._slug is None:
                self._slug = self._integration.get_app().slug
            return f"{self._slug}[bot]"


class _InstallationToken(Auth.Auth):
    """Looks the token up per request, so a long-lived client never sends an expired one."""

    def __init__(
        self, tokens: InstallationAuth, installation_id: int, repo: str | None, access: Access
    ) -> None:
        self._tokens = tokens
        self._installation_id = installation_id
        self._repo = repo
        self._access = access

    @property
    def token_type(self) -> str:
        return "token"

    @property
    def token(self) -> str:
        return self._tokens.token_for(self._installation_id, self._repo, self._access)

    @property
    def _masked_token(self) -> str:
        return "token (installation token removed)"
