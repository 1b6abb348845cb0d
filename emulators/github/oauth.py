"""OAuth Apps and their grants: the web flow's codes, the device flow's codes, browser sessions.

The shapes follow docs.github.com, "Authorizing OAuth apps": a web-flow `code` lasts ten
minutes and is used once; a device code lasts fifteen minutes (`expires_in` 900), is polled no
faster than `interval` seconds (else `slow_down`, and the interval grows by five) and yields one
token. Tokens are `gho_…` and act as the user who approved them. A browser is signed in to the
emulator by the `user_session` cookie `sign_in` hands out (as github.com's own cookie).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from emulators.github.state import Repository, Token, User

CODE_LIFETIME = 600
DEVICE_LIFETIME = 900
DEVICE_INTERVAL = 5
SLOW_DOWN_STEP = 5
SESSION_COOKIE = "user_session"
USER_CODE_LETTERS = "BCDFGHJKLMNPQRSTVWXZ0123456789"  # no vowels: no words by chance


@dataclass
class OAuthApp:
    client_id: str
    client_secret: str
    name: str
    callback_url: str | None = None  # None: any redirect_uri (the emulator's own leniency)
    device_flow: bool = True


@dataclass
class DeviceGrant:
    device_code: str
    user_code: str
    app: OAuthApp
    scope: str
    expires_at: float
    interval: int
    last_poll: float | None = None
    user: User | None = None  # who entered the code and authorized
    denied: bool = False
    used: bool = False


@dataclass
class WebGrant:
    code: str
    app: OAuthApp
    user: User
    redirect_uri: str | None
    scope: str
    expires_at: float
    used: bool = False


@dataclass
class OAuthState:
    """What the emulator's OAuth endpoints keep; `device_interval` shortens polling in tests."""

    device_interval: int = DEVICE_INTERVAL
    apps: dict[str, OAuthApp] = field(default_factory=dict)
    devices: dict[str, DeviceGrant] = field(default_factory=dict)
    codes: dict[str, WebGrant] = field(default_factory=dict)
    sessions: dict[str, User] = field(default_factory=dict)

    def add_app(
        self,
        name: str = "repocrew",
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        callback_url: str | None = None,
        device_flow: bool = True,
    ) -> OAuthApp:
        app = OAuthApp(
            client_id=client_id or f"Ov23li{secrets.token_hex(7)}",
            client_secret=client_secret or secrets.token_hex(20),
            name=name,
            callback_url=callback_url,
            device_flow=device_flow,
        )
        self.apps[app.client_id] = app
        return app

    def sign_in(self, user: User) -> str:
        """A browser session for `user`: the value of the `user_session` cookie."""
        cookie = secrets.token_urlsafe(24)
        self.sessions[cookie] = user
        return cookie

    def new_device_grant(self, app: OAuthApp, scope: str, now: float) -> DeviceGrant:
        letters = "".join(secrets.choice(USER_CODE_LETTERS) for _ in range(8))
        grant = DeviceGrant(
            device_code=secrets.token_hex(20),
            user_code=f"{letters[:4]}-{letters[4:]}",
            app=app,
            scope=scope,
            expires_at=now + DEVICE_LIFETIME,
            interval=self.device_interval,
        )
        self.devices[grant.device_code] = grant
        return grant

    def by_user_code(self, user_code: str) -> DeviceGrant | None:
        wanted = user_code.strip().upper().replace(" ", "")
        if len(wanted) == 8:
            wanted = f"{wanted[:4]}-{wanted[4:]}"
        return next((g for g in self.devices.values() if g.user_code == wanted), None)

    def new_code(
        self, app: OAuthApp, user: User, redirect_uri: str | None, scope: str, now: float
    ) -> WebGrant:
        grant = WebGrant(
            code=secrets.token_hex(10),
            app=app,
            user=user,
            redirect_uri=redirect_uri,
            scope=scope,
            expires_at=now + CODE_LIFETIME,
        )
        self.codes[grant.code] = grant
        return grant


def user_token(user: User) -> Token:
    """An OAuth App's user access token (`gho_`), without expiry as GitHub's are."""
    return Token(token=f"gho_{secrets.token_urlsafe(27)[:36]}", expires_at=None, user=user)


def rename_user(users: dict[str, User], repos: list[Repository], login: str, new: str) -> User:
    """GitHub's rename: same id, a new login; repositories' collaborator lists follow it (the
    old login is then free for anyone to take)."""
    user = users.pop(login)
    user.login = new
    users[new] = user
    for repo in repos:
        if login in repo.collaborators:
            repo.collaborators[new] = repo.collaborators.pop(login)
    return user
