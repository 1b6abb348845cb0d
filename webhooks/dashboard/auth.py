"""Who may see the dashboard: the static token, and the signed session cookie it buys.

The session is `v1.<issued>.<hmac>` under a key derived from the token, so changing the
token logs everyone out; nothing about the token itself is in the cookie.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

COOKIE = "repocrew_dashboard"
PREFIX = "/dashboard"
SESSION_SECONDS = 12 * 3600
_VERSION = "v1"


def session_key(token: str) -> bytes:
    """The cookie-signing key: the token would also sign, but a derived key keeps them apart."""
    return hmac.new(token.encode(), b"repocrew-dashboard-session", hashlib.sha256).digest()


def token_matches(given: str, token: str) -> bool:
    return hmac.compare_digest(given.strip().encode(), token.strip().encode())


def new_session(key: bytes, *, now: float) -> str:
    body = f"{_VERSION}.{int(now)}"
    return f"{body}.{_signature(key, body)}"


def session_valid(key: bytes, cookie: str | None, *, now: float) -> bool:
    """A cookie we signed, issued within SESSION_SECONDS (and not in the future)."""
    if not cookie or cookie.count(".") != 2:
        return False
    version, issued, signature = cookie.split(".")
    if version != _VERSION or not issued.isdigit():
        return False
    if not hmac.compare_digest(signature, _signature(key, f"{version}.{issued}")):
        return False
    return 0 <= now - int(issued) <= SESSION_SECONDS


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


def _signature(key: bytes, body: str) -> str:
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
