"""GitHub's X-Hub-Signature-256 check, constant-time (Slack's is slack_sdk's, in webhooks.slack)."""

from __future__ import annotations

import hashlib
import hmac

# hashlib lets go of the GIL for inputs of 2 KiB and more; under load the intake writer then
# takes it and the request waits to get it back. Feeding small pieces keeps it.
_GIL_FREE_CHUNK = 2047


def _hex_hmac(secret: bytes, body: bytes) -> str:
    mac = hmac.new(secret, digestmod=hashlib.sha256)
    for start in range(0, len(body), _GIL_FREE_CHUNK):
        mac.update(body[start : start + _GIL_FREE_CHUNK])
    return mac.hexdigest()


def github_signature_valid(secret: bytes, body: bytes, header: str | None) -> bool:
    """`sha256=` + hex HMAC-SHA256 of the raw body."""
    if not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + _hex_hmac(secret, body)
    return hmac.compare_digest(expected.encode(), header.encode("utf-8", "replace"))
