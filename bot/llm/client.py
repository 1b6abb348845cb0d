"""The one adapter over the `anthropic` SDK: one Messages call, retried within a deadline.

The SDK's own retries are off (`max_retries=0`): its `timeout` is per attempt and its retry
sleeps know no deadline. Our policy (`bot.llm.retries`, on tenacity) sends a call again, and
each attempt here is one SDK request given the time it may take (its own timeout, or what is
left of the deadline), with the retry count in the header the SDK would send on its own
retries, counted for /metrics by `count_anthropic_attempt`. Large `max_tokens` are streamed:
the API may take longer than an HTTP read should wait. A stream that breaks mid-way with a
retryable error is one more failed attempt, sent again like any other.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx2  # the SDK's transport: a connection lost mid-stream surfaces as its error

from bot.llm.errors import (
    ModelDeadlineExceeded,
    ModelError,
    ModelRequestRejected,
    ModelUnavailable,
    SpendLimitReached,
    classify,
)
from bot.llm.retries import FIRST_DELAY, Deadline, RetryPolicy
from bot.observability.calls import count_anthropic_attempt, record_retry
from bot.security.secrets import SecretScanner

__all__ = [  # the errors live in `bot.llm.errors`; callers may import them from here
    "ModelClient",
    "ModelDeadlineExceeded",
    "ModelError",
    "ModelReply",
    "ModelRequestRejected",
    "ModelUnavailable",
    "ModelUsage",
    "SpendLimitReached",
]

log = logging.getLogger(__name__)

# The SDK sends the retries taken in this header on its own retries; ours send it the same way.
RETRY_COUNT_HEADER = "x-stainless-retry-count"


@dataclass(frozen=True)
class ModelUsage:
    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    @property
    def all_input_tokens(self) -> int:
        """The whole prompt: `input_tokens` counts only what follows the last cache hit."""
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens


@dataclass(frozen=True)
class ModelReply:
    """One assistant turn; `content` holds API-shaped blocks, fit to send back as they are."""

    id: str
    model: str
    content: list[dict[str, Any]]
    stop_reason: str | None
    usage: ModelUsage
    request_id: str | None
    attempts: int = 1  # HTTP requests sent: 1 + the retries that happened


class ModelClient:
    """Messages calls over one SDK client (thread-safe: each call has its own `Deadline`)."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        max_retries: int = 4,
        attempt_timeout: float = 120.0,
        deadline: float = 600.0,
        stream_from_max_tokens: int = 16_384,
        retry_delay: float = FIRST_DELAY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # An explicit timeout also turns off the SDK's refusal of long non-streaming calls:
        # `stream_from_max_tokens` streams them first.
        self._sdk = anthropic.Anthropic(
            api_key=api_key, base_url=base_url, max_retries=0, timeout=attempt_timeout
        )
        # Message requests are counted for /metrics (middleware runs once per HTTP request).
        self._counted = self._sdk.with_options(
            middleware=[*self._sdk.middleware, count_anthropic_attempt]
        )
        self.max_retries = max_retries
        self.attempt_timeout = attempt_timeout
        self.deadline = deadline
        self.stream_from_max_tokens = stream_from_max_tokens
        self.retry_delay = retry_delay  # the first backoff when a reply names no wait, doubling
        self.policy = RetryPolicy(max_retries=max_retries, first_delay=retry_delay)
        self._clock = clock
        self._scanner = SecretScanner([api_key])

    def close(self) -> None:
        self._sdk.close()

    def list_models(self, *, timeout: float = 5.0) -> list[str]:
        """The model ids the key may use (first page, no retries): a cheap check of key and
        reach for `repocrew doctor`. Raises a `ModelError` subclass."""
        try:
            page = self._sdk.models.list(timeout=timeout)
        except anthropic.APIError as error:
            raise self._redacted(from_sdk(error)) from None
        return [model.id for model in page.data]

    def create(
        self,
        *,
        model: str,
        max_tokens: int,
        system: list[dict[str, Any]] | str,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None = None,
        tool_choice: dict[str, Any] | None = None,
        deadline: float | None = None,
    ) -> ModelReply:
        """One assistant turn; `stop_reason` comes back untouched (`max_tokens`, `refusal`,
        `pause_turn` are the caller's to handle). Raises a `ModelError` subclass."""
        call = Deadline(self.deadline if deadline is None else deadline, self._clock)
        params: dict[str, Any] = {
            "model": model,
            "max_tokens": max_tokens,
            "system": system,
            "messages": messages,
        }
        if tools is not None:
            params["tools"] = tools
        if tool_choice is not None:
            params["tool_choice"] = tool_choice
        streamed = max_tokens >= self.stream_from_max_tokens
        try:
            message, request_id = self.policy.retrying(call)(self._attempt, call, params, streamed)
        except ModelError as error:
            # Its frames hold tenacity's record of the call, which holds the error: cleared, the
            # client and its connections are freed when dropped, not at the next collection.
            traceback.clear_frames(error.__traceback__)
            error.redact(self._scanner)
            log.info(
                "model call failed: model=%s error=%s status=%s attempts=%d duration=%.2fs",
                model, type(error).__name__, error.status, call.attempts, call.elapsed(),
            )  # fmt: skip
            raise
        reply = _reply(message, request_id, call.attempts)
        usage = reply.usage
        log.info(
            "model call: model=%s stop_reason=%s input=%d cache_write=%d cache_read=%d "
            "output=%d attempts=%d streamed=%s duration=%.2fs",
            model, reply.stop_reason, usage.input_tokens, usage.cache_creation_input_tokens,
            usage.cache_read_input_tokens, usage.output_tokens, reply.attempts, streamed,
            call.elapsed(),
        )  # fmt: skip
        return reply

    def _attempt(
        self, call: Deadline, params: dict[str, Any], streamed: bool
    ) -> tuple[anthropic.types.Message, str | None]:
        """One HTTP request of the call. Fails with a `ModelError` (redacted: the policy logs
        it) that says whether to send it again."""
        timeout = call.start_attempt(self.attempt_timeout)
        retries_taken = call.attempts - 1
        if retries_taken:
            record_retry("anthropic")
        options = {"timeout": timeout, "extra_headers": {RETRY_COUNT_HEADER: str(retries_taken)}}
        try:
            if streamed:
                return _stream_once(self._counted, {**params, **options}, call)
            message = self._counted.messages.create(**params, **options)
            return message, message._request_id
        except anthropic.APIError as error:
            if isinstance(error, anthropic.APITimeoutError) and timeout < self.attempt_timeout:
                raise call.expired() from None  # the attempt had only the deadline's time left
            raise self._redacted(from_sdk(error)) from None

    def _redacted(self, error: ModelError) -> ModelError:
        error.redact(self._scanner)
        return error


def from_sdk(error: anthropic.APIError) -> ModelError:
    """Our error for the SDK's: what it means, and whether (and when) to send the call again."""
    if isinstance(error, anthropic.APIStatusError):
        if error.status_code < 400:  # an `error` event in a stream, which comes on a 200
            return classify(None, error.body, error.request_id)
        headers = error.response.headers
        return classify(error.status_code, error.body, error.request_id, headers)
    if isinstance(error, anthropic.APITimeoutError):
        return ModelUnavailable("the API did not answer within the attempt timeout", may_retry=True)
    if isinstance(error, anthropic.APIConnectionError):
        return ModelUnavailable(f"could not reach the API: {error.message}", may_retry=True)
    return ModelUnavailable(f"unreadable reply from the API ({type(error).__name__})")


def _stream_once(
    sdk: anthropic.Anthropic, params: dict[str, Any], call: Deadline
) -> tuple[anthropic.types.Message, str | None]:
    """One streamed attempt; the deadline is checked at each event, as a stream may trickle."""
    with sdk.messages.stream(**params) as stream:  # sends the request
        try:
            for _event in stream:
                if call.left() <= 0:
                    raise call.expired()
        except httpx2.TransportError:
            raise ModelUnavailable("the connection was lost mid-stream", may_retry=True) from None
        return stream.get_final_message(), stream.request_id


def _reply(message: anthropic.types.Message, request_id: str | None, attempts: int) -> ModelReply:
    usage = message.usage
    return ModelReply(
        id=message.id,
        model=message.model,
        # exclude_none drops the response-only nulls (`citations`, ...); block inputs are kept.
        content=[block.model_dump(mode="json", exclude_none=True) for block in message.content],
        stop_reason=message.stop_reason,
        usage=ModelUsage(
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_creation_input_tokens=usage.cache_creation_input_tokens or 0,
            cache_read_input_tokens=usage.cache_read_input_tokens or 0,
        ),
        request_id=request_id,
        attempts=attempts,
    )
