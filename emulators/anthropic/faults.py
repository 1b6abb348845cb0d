"""Errors the emulator answers: the API's error body, and faults queued by tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}

DEFAULT_MESSAGES = {
    "rate_limit_error": "This request would exceed your organization's rate limit (emulated).",
    "api_error": "Internal server error (emulated).",
    "overloaded_error": "Overloaded",
}

# Spend limits as the API answers them: (error type, message, `error.details.error_code`).
# The two 400s carry no code and are the replies recorded in the wild (anthropics/claude-code
# issues #4207 and #2127); the 429 is the typed form the SDK models (anthropic 2.12,
# `EnforcedSpendLimitReachedError`, `error.details.error_code`).
SPEND_LIMITS = {
    "credit_balance": (
        "invalid_request_error",
        "Your credit balance is too low to access the Anthropic API. "
        "Please go to Plans & Billing to upgrade or purchase credits.",
        None,
    ),
    "usage_limit": (
        "invalid_request_error",
        "You have reached your specified API usage limits. "
        "You will regain access on 2026-01-01 at 00:00 UTC.",
        None,
    ),
    "enforced": (
        "rate_limit_error",
        "Your organization has reached the monthly usage limit of its API tier (emulated).",
        "enforced_spend_limit_reached",
    ),
}


def error_body(error_type: str, message: str, request_id: str) -> dict[str, Any]:
    """`{"type": "error", "error": {...}, "request_id": ...}`, as the API sends it."""
    return {
        "type": "error",
        "error": {"type": error_type, "message": message},
        "request_id": request_id,
    }


@dataclass(frozen=True)
class Fault:
    """What happens to one request instead of (or before) its normal answer.

    `error_type` set: answer that error (status from `ERROR_STATUS`) with `retry-after` when
    `retry_after` is set, and `error.details.error_code` when `error_code` is set. Otherwise
    wait `delay` seconds, then answer normally.
    """

    error_type: str | None = None
    message: str | None = None
    error_code: str | None = None
    retry_after: float | None = None
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def status(self) -> int:
        return ERROR_STATUS[self.error_type] if self.error_type else 200

    def response_headers(self) -> dict[str, str]:
        # As the API does: retry a 429 or a 5xx, not another 4xx (`headers` may say otherwise).
        retry = self.status == 429 or self.status >= 500
        headers = {"x-should-retry": "true" if retry else "false", **self.headers}
        if self.retry_after is not None:
            # Whole seconds are sent as the API does ("2"); fractions let tests stay fast.
            seconds = self.retry_after
            headers["retry-after"] = str(int(seconds)) if seconds == int(seconds) else str(seconds)
        if self.error_type == "rate_limit_error":
            headers.setdefault("anthropic-ratelimit-requests-remaining", "0")
        return headers

    def body(self, request_id: str) -> dict[str, Any]:
        assert self.error_type is not None
        message = self.message or DEFAULT_MESSAGES.get(self.error_type, self.error_type)
        body = error_body(self.error_type, message, request_id)
        if self.error_code is not None:
            body["error"]["details"] = {"error_code": self.error_code}
        return body


@dataclass(frozen=True)
class StreamBreak:
    """A streamed answer cut short: `after` events, then an `error` event."""

    error_type: str = "overloaded_error"
    message: str = "Overloaded"
    after: int = 3

    def error(self) -> dict[str, str]:
        return {"type": self.error_type, "message": self.message}


@dataclass(frozen=True)
class StreamStall:
    """A streamed answer that stops after `after` events, hangs `seconds`, then loses its
    connection without a `message_stop`, as when an idle proxy cuts a stalled stream."""

    after: int = 3
    seconds: float = 1.0


@dataclass(frozen=True)
class Outage:
    """Every message request until `until` (the emulator's clock) gets `fault`."""

    until: float
    fault: Fault
