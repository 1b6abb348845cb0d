"""Who may see the dashboard: the static token, and the signed session cookie it buys.

The session is itsdangerous' timestamped signature of `v1`, under a key that itsdangerous
derives from the token and a salt: changing the token logs everyone out, and nothing about
the token itself is in the cookie.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from itsdangerous import BadData, TimestampSigner

COOKIE = "repocrew_dashboard"
PREFIX = "/dashboard"
SESSION_SECONDS = 12 * 3600
_SALT = "repocrew-dashboard-session"
_VERSION = b"v1"  # what is signed: a cookie of any other scheme or version is refused


class _SessionSigner(TimestampSigner):
    """itsdangerous' timestamp signer on the caller's clock, so tests can move time."""

    def __init__(self, key: bytes, now: float) -> None:
        # The "hmac" derivation signs under HMAC(token, salt), never under the token itself.
        super().__init__(key, salt=_SALT, key_derivation="hmac", digest_method=hashlib.sha256)
        self._now = int(now)

    def get_timestamp(self) -> int:
        return self._now


def session_key(token: str) -> bytes:
    """The secret the cookie is signed from; the signer derives its own key from it."""
    return token.encode()


def token_matches(given: str, token: str) -> bool:
    return hmac.compare_digest(given.strip().encode(), token.strip().encode())


def new_session(key: bytes, *, now: float) -> str:
    return _SessionSigner(key, now).sign(_VERSION).decode()


def session_valid(key: bytes, cookie: str | None, *, now: float) -> bool:
    """A cookie we signed, issued within SESSION_SECONDS (itsdangerous refuses the future)."""
    if not cookie:
        return False
    try:
        value = _SessionSigner(key, now).unsign(cookie, max_age=SESSION_SECONDS)
    except BadData:  # forged, tampered, malformed or expired
        return False
    return value == _VERSION


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a dashboard path on this host only (no open redirect)."""
    if not target:
        return PREFIX
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//") or "\\" in target:
        return PREFIX
    if parts.path != PREFIX and not parts.path.startswith(PREFIX + "/"):
        return PREFIX
    return target
