"""Request signatures: GitHub's X-Hub-Signature-256 and Slack's v0 signing, constant-time."""

from __future__ import annotations

import hashlib
import hmac
import time

# hashlib lets go of the GIL for inputs of 2 KiB and more; under load the intake writer then
# takes it and the request waits to get it back. Feeding small pieces keeps it.
_GIL_FREE_CHUNK = 2047
SLACK_MAX_AGE_SECONDS = 5 * 60


def _hex_hmac(secret: bytes, body: bytes, prefix: bytes = b"") -> str:
    mac = hmac.new(secret, prefix, digestmod=hashlib.sha256)
    for start in range(0, len(body), _GIL_FREE_CHUNK):
        mac.update(body[start : start + _GIL_FREE_CHUNK])
    return mac.hexdigest()


def github_signature_valid(secret: bytes, body: bytes, header: str | None) -> bool:
    """`sha256=` + hex HMAC-SHA256 of the raw body."""
    if not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + _hex_hmac(secret, body)
    return hmac.compare_digest(expected.encode(), header.encode("utf-8", "replace"))


def slack_signature_valid(
    secret: bytes, body: bytes, timestamp: str | None, signature: str | None, now: float | None
) -> bool:
    """`v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`, timestamp within five minutes."""
    if not timestamp or not timestamp.isdigit() or not signature:
        return False
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > SLACK_MAX_AGE_SECONDS:
        return False
    expected = "v0=" + _hex_hmac(secret, body, prefix=b"v0:" + timestamp.encode() + b":")
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))
