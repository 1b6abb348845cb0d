"""GitHub App authentication: the App's JWT and installation tokens, cached until near expiry.

PyGithub signs the JWT (RS256, issued 60 s in the past so a slow clock is forgiven, valid for
five minutes where GitHub allows ten) and trades it for an installation token. GitHub's tokens
last an hour; this module keeps one per installation of its App and asks for a new one
`refresh_margin` seconds before it runs out, so a git push never starts on a dying token.
Tokens are secrets: nothing here logs them or shows them in a repr.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import github
from github import Auth, Consts
from urllib3 import Retry

JWT_ISSUED_AT = -60  # seconds relative to now: GitHub's own advice against clock drift
JWT_EXPIRY = 300  # seconds; GitHub refuses JWTs that live longer than 600


@dataclass(frozen=True)
class _Token:
    value: str = field(repr=False)
    expires_at: float  # Unix time


class InstallationAuth:
    """Installation tokens of one GitHub App, one cached per installation id.

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
        self._tokens: dict[int, _Token] = {}
        self._installations: dict[str, int] = {}
        self._slug: str | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"InstallationAuth(app_id={self.app_id})"

    def close(self) -> None:
        self._integration.close()

    def token_for(self, installation_id: int) -> str:
        """A token for the installation, valid for at least `refresh_margin` more seconds."""
        with self._lock:
            cached = self._tokens.get(installation_id)
            if cached is None or cached.expires_at - self.refresh_margin <= self._clock():
                granted = self._integration.get_access_token(installation_id)
                cached = _Token(granted.token, granted.expires_at.timestamp())
                self._tokens[installation_id] = cached
            return cached.value

    def forget(self, installation_id: int, token: str | None = None) -> None:
        """Drop the cached token (GitHub refused it: revoked, or our clock runs late), so the
        next request mints a new one; with `token`, only if that is still the one cached."""
        with self._lock:
            cached = self._tokens.get(installation_id)
            if cached is not None and token in (None, cached.value):
                del self._tokens[installation_id]

    def auth_for(self, installation_id: int) -> Auth.Auth:
        """A PyGithub `Auth` that sends the installation's current token on every request."""
        return _InstallationToken(self, installation_id)

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

    def __init__(self, tokens: InstallationAuth, installation_id: int) -> None:
        self._tokens = tokens
        self._installation_id = installation_id

    @property
    def token_type(self) -> str:
        return "token"

    @property
    def token(self) -> str:
        return self._tokens.token_for(self._installation_id)

    @property
    def _masked_token(self) -> str:
        return "token (installation token removed)"
