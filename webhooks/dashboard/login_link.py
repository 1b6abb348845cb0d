"""One-time login links: `repocrew start` prints one after its demo, so the first visit to the
dashboard needs no token typed.

A link's code is random and lives only in this process's memory (`app.state.login_links`); it
works once, then the session cookie it bought does. Nothing issues links unless asked.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from urllib.parse import quote

from fastapi import Request, Response

from webhooks.dashboard.auth import PREFIX, safe_next
from webhooks.dashboard.render import page
from webhooks.dashboard.routes import router, sessions_key, signed_in


class LoginLinks:
    """The codes issued and not yet used."""

    def __init__(self) -> None:
        self._codes: set[str] = set()
        self._lock = threading.Lock()

    def issue(self) -> str:
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes.add(code)
        return code

    def redeem(self, code: str) -> bool:
        """True once for a code issued here; it is spent either way it matched."""
        with self._lock:
            for known in self._codes:
                if hmac.compare_digest(known.encode(), code.encode()):
                    self._codes.discard(known)
                    return True
        return False


def login_path(code: str) -> str:
    return f"{PREFIX}/login/link?code={quote(code, safe='')}"


@router.get("/login/link")
def login_link(request: Request, code: str = "", next: str | None = None) -> Response:
    links: LoginLinks | None = getattr(request.app.state, "login_links", None)
    if sessions_key(request) is None or links is None or not links.redeem(code):
        return page(request, "missing.html", status=404, what="unused login link like this one")
    return signed_in(request, safe_next(next))
