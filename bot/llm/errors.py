"""What a failed model call means: our error classes, and the reading of an API error reply.

Pure: no SDK here. `classify` turns a status, an error body and the reply's headers into one
`ModelError` that says whether sending the call again may help (`may_retry`) and how long the
API asked us to wait first (`retry_after`), so the retry policy needs nothing else.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping

from bot.security.secrets import SecretScanner

# Error types retried when they come as an `error` event mid-stream (no HTTP status to judge).
RETRYABLE_TYPES = frozenset({"rate_limit_error", "api_error", "overloaded_error", "timeout_error"})
# Out of credit or over a spend limit: retrying cannot help. The rule, codes first: HTTP 402,
# error type `billing_error`, or an `error.details.error_code` below (the typed errors of the
# SDK, anthropic 2.12 `_error_classes.py`); then, for replies that carry no code, a 400/403/429
# whose message has a phrase below (the 400s recorded in anthropics/claude-code #4207, #2127).
SPEND_LIMIT_CODES = frozenset(
    {
        "enforced_spend_limit_reached",
        "contract_spend_limit_reached",
        "linked_organization_spend_limit_reached",
        "linked_organization_billing_unavailable",
    }
)
SPEND_LIMIT_PHRASES = ("credit balance is too low", "api usage limits", "spend limit")


class ModelError(Exception):
    """A failed model call. `str()` is status, error type and the API's message: no key, no
    headers, so it is safe to log and to show.

    `may_retry`: whether sending the same call again may succeed; `retry_after`: the seconds
    the reply asked us to wait before that (None: it did not say)."""

    def __init__(
        self,
        reason: str,
        *,
        status: int | None = None,
        error_type: str | None = None,
        request_id: str | None = None,
        may_retry: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.error_type = error_type
        self.request_id = request_id
        self.may_retry = may_retry
        self.retry_after = retry_after

    def redact(self, scanner: SecretScanner) -> None:
        """Scrub the reason: the API's message never holds the key, but nothing is assumed."""
        self.reason = scanner.redact(self.reason)
        self.args = (self.reason,)


class SpendLimitReached(ModelError):
    """The account is out of credit or over a spend limit (see `SPEND_LIMIT_CODES`)."""


class ModelRequestRejected(ModelError):
    """The API refused the request itself (400, 401, 403, 404, 413...): retrying will not help."""


class ModelUnavailable(ModelError):
    """Rate limited, overloaded, failing or unreachable, still after the retries."""


class ModelDeadlineExceeded(ModelError):
    """The call's overall deadline passed, or would have before the next retry."""


def retryable(status: int | None, error_type: str = "") -> bool:
    """Statuses worth another try (408, 409, 429, 5xx, 529); `status` None: an `error` event
    mid-stream, judged by its type."""
    if status is None:
        return error_type in RETRYABLE_TYPES
    return status in (408, 409, 429) or status >= 500


def is_spend_limit(status: int | None, error_type: str, code: str | None, message: str) -> bool:
    if status == 402 or error_type == "billing_error" or code in SPEND_LIMIT_CODES:
        return True
    lowered = message.lower()
    return status in (400, 403, 429) and any(phrase in lowered for phrase in SPEND_LIMIT_PHRASES)


def classify(
    status: int | None,
    body: object,
    request_id: str | None,
    headers: Mapping[str, str] | None = None,
) -> ModelError:
    """The error an API error reply means; `status` None for an `error` event in a stream.

    The reply's `x-should-retry` (the API's own word) overrides the status, except that a spend
    limit is never retried: the API sends its 429 with `x-should-retry: true`."""
    error = body.get("error") if isinstance(body, Mapping) else None
    error = error if isinstance(error, Mapping) else {}
    error_type = str(error.get("type") or "error")
    message = str(error.get("message") or "no message")
    details = error.get("details")
    code = details.get("error_code") if isinstance(details, Mapping) else None
    if is_spend_limit(status, error_type, code, message):
        kind: type[ModelError] = SpendLimitReached
    elif retryable(status, error_type):
        kind = ModelUnavailable
    else:
        kind = ModelRequestRejected
    headers = headers or {}
    said = headers.get("x-should-retry")
    may_retry = kind is ModelUnavailable if said not in ("true", "false") else said == "true"
    return kind(
        f"{status or 'mid-stream'} {error_type}: {message}",
        status=status,
        error_type=error_type,
        request_id=request_id,
        may_retry=may_retry and kind is not SpendLimitReached,
        retry_after=retry_after(headers),
    )


def retry_after(headers: Mapping[str, str]) -> float | None:
    """The wait a reply asks for: `retry-after-ms` (the API's, in milliseconds), else the HTTP
    `retry-after` (RFC 9110), in seconds (fractions accepted) or as an HTTP date."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            return float(headers[name]) * scale
        except (KeyError, ValueError):
            pass
    when = email.utils.parsedate_tz(headers.get("retry-after", ""))
    return None if when is None else email.utils.mktime_tz(when) - time.time()
