"""The one adapter over the `anthropic` SDK: one Messages call, retried within a deadline.

Retries are the SDK's own (`max_retries`: 429, 5xx, 529 and connection errors, honouring
`x-should-retry` and `retry-after-ms`/`retry-after`). But the SDK's `timeout` is per attempt
and its retry sleeps know no deadline, so each call adds a middleware (the SDK's hook that runs
once per HTTP attempt, inside its retry loop) that gives every attempt only the time left, and
ends the call with `ModelDeadlineExceeded` when the wait before the next retry would pass the
deadline, or with `SpendLimitReached` at once, whatever the reply says about retrying. A stream
that breaks mid-way fails after the SDK's loop has returned, so that is the one retry made here.
Large `max_tokens` are streamed: the API may take longer than an HTTP read should wait.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx2  # the SDK's transport: a connection lost mid-stream surfaces as its error

from bot.observability.calls import count_anthropic_attempt
from bot.security.secrets import SecretScanner

log = logging.getLogger(__name__)

SDK_FIRST_DELAY = 0.5  # the SDK's backoff without `retry-after` (anthropic/_constants.py)
SDK_MAX_DELAY = 8.0
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


class ModelError(Exception):
    """A failed model call. `str()` is status, error type and the API's message: no key, no
    headers, so it is safe to log and to show."""

    def __init__(
        self,
        reason: str,
        *,
        status: int | None = None,
        error_type: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.error_type = error_type
        self.request_id = request_id

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
    """What the SDK retries (408, 409, 429, 5xx); `status` None: an `error` event mid-stream."""
    if status is None:
        return error_type in RETRYABLE_TYPES
    return status in (408, 409, 429) or status >= 500


def is_spend_limit(status: int | None, error_type: str, code: str | None, message: str) -> bool:
    if status == 402 or error_type == "billing_error" or code in SPEND_LIMIT_CODES:
        return True
    lowered = message.lower()
    return status in (400, 403, 429) and any(phrase in lowered for phrase in SPEND_LIMIT_PHRASES)


def classify(status: int | None, body: object, request_id: str | None) -> ModelError:
    """The error an API error body means; `status` None for an `error` event in a stream."""
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
    reason = f"{status or 'mid-stream'} {error_type}: {message}"
    return kind(reason, status=status, error_type=error_type, request_id=request_id)


def from_sdk(error: anthropic.APIError) -> ModelError:
    if isinstance(error, anthropic.APIStatusError):
        status = error.status_code if error.status_code >= 400 else None  # events come on a 200
        return classify(status, error.body, error.request_id)
    if isinstance(error, anthropic.APITimeoutError):
        return ModelUnavailable("the API did not answer within the attempt timeout")
    if isinstance(error, anthropic.APIConnectionError):
        return ModelUnavailable(f"could not reach the API: {error.message}")
    return ModelUnavailable(f"unreadable reply from the API ({type(error).__name__})")


def server_wait(headers: Mapping[str, str]) -> float | None:
    """The wait a reply asks for, read as the SDK reads it (`_parse_retry_after_header`)."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            return float(headers[name]) * scale
        except (KeyError, ValueError):
            pass
    when = email.utils.parsedate_tz(headers.get("retry-after", ""))
    return None if when is None else email.utils.mktime_tz(when) - time.time()


def sdk_retries(response: httpx2.Response) -> bool:
    """Whether the SDK retries this reply (`_should_retry`): the header decides, else the status."""
    should = response.headers.get("x-should-retry")
    if should in ("true", "false"):
        return should == "true"
    return retryable(response.status_code)


class CallGuard(anthropic.Middleware):
    """One call's watch over the SDK's attempts: counts them, gives each the time left, and
    stops the SDK's retries at a spend limit or where the next wait would pass the deadline."""

    def __init__(
        self, *, budget: float, attempt_timeout: float, max_retries: int, clock: Callable[[], float]
    ) -> None:
        self.budget = budget
        self.attempt_timeout = attempt_timeout
        self.max_retries = max_retries
        self.clock = clock
        self.started = clock()
        self.attempts = 0

    def left(self) -> float:
        return self.started + self.budget - self.clock()

    def expired(self, when: str = "passed") -> ModelDeadlineExceeded:
        return ModelDeadlineExceeded(
            f"the model call's deadline of {self.budget:g}s {when} "
            f"({self.attempts} attempt{'s' if self.attempts != 1 else ''})"
        )

    def handle(
        self, request: anthropic.APIRequest, call_next: anthropic.CallNext
    ) -> anthropic.APIResponse[Any]:
        left = self.left()
        if left <= 0:
            raise self.expired()
        self.attempts += 1
        timeout = min(self.attempt_timeout, left)
        try:
            response = call_next(request.copy(timeout=timeout))
        except anthropic.APITimeoutError:
            if timeout < self.attempt_timeout:  # the attempt had only the deadline's time left
                raise self.expired() from None
            self.before_retry(request.retries_taken, None)
            raise
        except anthropic.APIConnectionError:
            self.before_retry(request.retries_taken, None)
            raise
        if response.status_code >= 400:
            http = response.http_response
            try:
                http.read()
                body = json.loads(http.text)
            except (ValueError, httpx2.HTTPError):  # the SDK reports what it can of it
                body = None
            error = classify(http.status_code, body, http.headers.get("request-id"))
            if isinstance(error, SpendLimitReached):
                http.close()
                raise error
            if sdk_retries(http):
                self.before_retry(request.retries_taken, http)
        return response

    def before_retry(self, retries_taken: int, response: httpx2.Response | None) -> None:
        """Give up now if the SDK will wait past the deadline before its next attempt."""
        if retries_taken >= self.max_retries:
            return  # no retry follows: the SDK raises this attempt's error
        wait = server_wait(response.headers) if response is not None else None
        if wait is None or wait <= 0:
            wait = min(SDK_FIRST_DELAY * 2**retries_taken, SDK_MAX_DELAY)  # jitter only shortens
        if self.left() <= wait:
            if response is not None:
                response.close()
            raise self.expired("would pass before the next retry")


class StreamBroke(Exception):
    """A stream that failed mid-way with a retryable error: the whole call is sent again."""

    def __init__(self, error: ModelError) -> None:
        super().__init__(error.reason)
        self.error = error


class ModelClient:
    """Messages calls over one SDK client (thread-safe: each call has its own `CallGuard`)."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        max_retries: int = 4,
        attempt_timeout: float = 120.0,
        deadline: float = 600.0,
        stream_from_max_tokens: int = 16_384,
        retry_delay: float = SDK_FIRST_DELAY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # An explicit timeout also turns off the SDK's refusal of long non-streaming calls:
        # `stream_from_max_tokens` streams them first.
        self._sdk = anthropic.Anthropic(
            api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=attempt_timeout
        )
        self.max_retries = max_retries
        self.attempt_timeout = attempt_timeout
        self.deadline = deadline
        self.stream_from_max_tokens = stream_from_max_tokens
        self.retry_delay = retry_delay  # before sending a broken stream again, doubling
        self._clock = clock
        self._scanner = SecretScanner([api_key])

    def close(self) -> None:
        self._sdk.close()

    def list_models(self, *, timeout: float = 5.0) -> list[str]:
        """The model ids the key may use (first page, no retries): a cheap check of key and
        reach for `repocrew doctor`. Raises a `ModelError` subclass."""
        try:
            page = self._sdk.with_options(max_retries=0, timeout=timeout).models.list()
        except anthropic.APIError as error:
            failure = from_sdk(error)
            failure.redact(self._scanner)
            raise failure from None
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
        guard = CallGuard(
            budget=self.deadline if deadline is None else deadline,
            attempt_timeout=self.attempt_timeout,
            max_retries=self.max_retries,
            clock=self._clock,
        )
        counted = [*self._sdk.middleware, guard, count_anthropic_attempt]  # innermost: per attempt
        sdk = self._sdk.with_options(middleware=counted)
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
            if streamed:
                message, request_id = self._stream(sdk, params, guard)
            else:
                message, request_id = _ask(sdk, params)
        except ModelError as error:
            error.redact(self._scanner)
            log.info(
                "model call failed: model=%s error=%s status=%s attempts=%d duration=%.2fs",
                model, type(error).__name__, error.status, guard.attempts,
                self._clock() - guard.started,
            )  # fmt: skip
            raise
        reply = _reply(message, request_id, guard.attempts)
        usage = reply.usage
        log.info(
            "model call: model=%s stop_reason=%s input=%d cache_write=%d cache_read=%d "
            "output=%d attempts=%d streamed=%s duration=%.2fs",
            model, reply.stop_reason, usage.input_tokens, usage.cache_creation_input_tokens,
            usage.cache_read_input_tokens, usage.output_tokens, reply.attempts, streamed,
            self._clock() - guard.started,
        )  # fmt: skip
        return reply

    def _stream(
        self, sdk: anthropic.Anthropic, params: dict[str, Any], guard: CallGuard
    ) -> tuple[anthropic.types.Message, str | None]:
        resent = 0
        while True:
            try:
                return _stream_once(sdk, params, guard)
            except StreamBroke as broke:
                if resent >= self.max_retries:
                    raise broke.error from None
                jitter = 1 - 0.25 * random.random()  # as the SDK's: 0.75 to 1
                wait = min(self.retry_delay * 2**resent, SDK_MAX_DELAY) * jitter
                if guard.left() <= wait:
                    raise guard.expired("would pass before the next retry") from None
                broke.error.redact(self._scanner)
                log.info("model stream broke (%s); sending again in %.2fs", broke.error, wait)
                time.sleep(wait)
                resent += 1


def _ask(
    sdk: anthropic.Anthropic, params: dict[str, Any]
) -> tuple[anthropic.types.Message, str | None]:
    try:
        message = sdk.messages.create(**params)
    except anthropic.APIError as error:
        raise from_sdk(error) from None
    return message, message._request_id


def _stream_once(
    sdk: anthropic.Anthropic, params: dict[str, Any], guard: CallGuard
) -> tuple[anthropic.types.Message, str | None]:
    with ExitStack() as stack:
        try:  # sends the request: the SDK's retries happen in here
            stream = stack.enter_context(sdk.messages.stream(**params))
        except anthropic.APIError as error:
            raise from_sdk(error) from None
        try:
            for _event in stream:
                if guard.left() <= 0:
                    raise guard.expired()
            return stream.get_final_message(), stream.request_id
        except anthropic.APIError as error:  # an `error` event
            failure = from_sdk(error)
        except httpx2.TransportError:
            failure = ModelUnavailable("the connection was lost mid-stream")
    if isinstance(failure, ModelUnavailable):
        raise StreamBroke(failure)
    raise failure


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
