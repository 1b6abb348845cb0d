"""Who is calling: app JWTs (RS256), installation tokens (`ghs_`), personal tokens."""

from __future__ import annotations

from dataclasses import dataclass

import jwt

from emulators.github.emulator import GitHubEmulator
from emulators.github.state import App, Installation, Repository, User

MAX_JWT_LIFETIME = 600


class AuthError(Exception):
    """The credentials are missing, malformed, wrong or expired (HTTP 401)."""

    def __init__(self, message: str = "Bad credentials") -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Principal:
    kind: str  # anonymous, app, installation, user
    app: App | None = None
    installation: Installation | None = None
    user: User | None = None
    permissions: dict[str, str] | None = None
    repository_ids: tuple[int, ...] | None = None  # an installation token's repositories

    @property
    def actor(self) -> User | None:
        """The user that GitHub shows as the author of what this caller creates."""
        if self.installation:
            return self.installation.app.bot
        return self.user

    @property
    def key(self) -> str:
        if self.installation:
            return f"installation:{self.installation.id}"
        if self.app:
            return f"app:{self.app.id}"
        return f"user:{self.user.login}" if self.user else "anonymous"

    def can_see(self, repo: Repository) -> bool:
        if self.installation:
            scoped = self.repository_ids is None or repo.id in self.repository_ids
            return scoped and self.installation.covers(repo)
        if self.user:
            return not repo.private or self.user.login in repo.collaborators
        return not repo.private and self.kind == "anonymous"

    def granted(self, permission: str) -> str | None:
        """An installation token's level of `permission` (metadata: read, always)."""
        if self.installation is None:
            return None
        level = (self.permissions or self.installation.permissions).get(permission)
        return level or ("read" if permission == "metadata" else None)

    def can_read(self, repo: Repository, permission: str) -> bool:
        if self.installation:
            return self.can_see(repo) and self.granted(permission) in ("read", "write")
        return self.can_see(repo)

    def can_write(self, repo: Repository, permission: str) -> bool:
        if self.installation:
            return self.can_see(repo) and self.granted(permission) == "write"
        if self.user:
            return repo.collaborators.get(self.user.login) in ("admin", "maintain", "write")
        return False


def authenticate(emulator: GitHubEmulator, header: str | None) -> Principal:
    """The principal for an `Authorization` header; raises AuthError for bad credentials."""
    if not header:
        return Principal("anonymous")
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    if scheme.lower() not in ("token", "bearer") or not credential:
        raise AuthError()
    if credential.count(".") == 2 and not credential.startswith(("ghs_", "ghp_")):
        return Principal("app", app=verify_app_jwt(emulator, credential))
    token = emulator.tokens.get(credential)
    if token is None:
        raise AuthError()
    if token.expires_at is not None and token.expires_at <= emulator.clock():
        raise AuthError()
    if token.installation:
        return Principal(
            "installation",
            installation=token.installation,
            permissions=token.permissions,
            repository_ids=token.repository_ids,
        )
    return Principal("user", user=token.user)


def verify_app_jwt(emulator: GitHubEmulator, encoded: str) -> App:
    """The app a JWT is from, checked like GitHub: RS256, `iss`, `iat`/`exp` within 10 minutes."""
    try:
        claims = jwt.decode(encoded, options={"verify_signature": False})
        app = emulator.apps.get(int(claims["iss"]))
    except (jwt.PyJWTError, KeyError, TypeError, ValueError) as error:
        raise AuthError("A JSON web token could not be decoded") from error
    if app is None:
        raise AuthError("Integration not found")
    now = emulator.clock()
    try:
        claims = jwt.decode(
            encoded,
            app.public_key_pem,
            algorithms=["RS256"],
            options={"require": ["iat", "exp", "iss"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError as error:
        raise AuthError("A JSON web token could not be decoded") from error
    iat, exp = int(claims["iat"]), int(claims["exp"])
    if exp <= now:
        raise AuthError(
            "'Expiration time' claim ('exp') must be a numeric value representing "
            "the future time at which the assertion expires"
        )
    if exp - iat > MAX_JWT_LIFETIME or iat > now + 60:
        raise AuthError("'Expiration time' claim ('exp') is too far in the future")
    return app
