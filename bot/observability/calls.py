"""This process's calls to GitHub, Slack and Anthropic, counted by status, and their retries.

Counted where the call is made, at the one hook each SDK adapter already has: the urllib3
`Retry` PyGithub sends every response through, the Anthropic SDK's per-attempt middleware (the
model client retries on its own and counts those), and the poster's one function every Slack
Web API call goes through. No SDK is imported here.

The counters live in `PROCESS`, a registry of this process (not prometheus_client's global
one): the web app's `/metrics` includes it, and `repocrew worker --metrics-port N` serves it,
because the worker is where nearly all of these calls happen. Scrape each worker for these;
what the store knows (queue, runs, spend) is served once, by the web app.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, GCCollector, ProcessCollector

SERVICES = ("github", "slack", "anthropic")
ERROR = "error"  # no HTTP status: the connection failed or timed out

PROCESS = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=PROCESS)
GCCollector(registry=PROCESS)

EXTERNAL_CALLS = Counter(
    "repocrew_external_calls",
    "HTTP requests to GitHub, Slack and Anthropic by the HTTP status answered (error: none)",
    ["service", "status"],
    registry=PROCESS,
)
EXTERNAL_RETRIES = Counter(
    "repocrew_external_retries",
    "Requests sent again after a failed attempt (rate limit, 5xx, connection error)",
    ["service"],
    registry=PROCESS,
)
for _service in SERVICES:
    EXTERNAL_RETRIES.labels(_service)


def record_call(service: str, status: int | str | None) -> None:
    EXTERNAL_CALLS.labels(service, str(status) if status else ERROR).inc()


def record_retry(service: str) -> None:
    EXTERNAL_RETRIES.labels(service).inc()


class CountingRetry:
    """Mixin over a urllib3 `Retry` (PyGithub's `GithubRetry`).

    urllib3 asks `is_retry` exactly once about every response it gets, and calls `increment`
    before each retry and on each connection error; a retry follows when `increment` returns.
    """

    service = "github"

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        record_call(self.service, status_code)
        return super().is_retry(method, status_code, has_retry_after)  # type: ignore[misc]

    def increment(
        self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None
    ):
        if response is None:
            record_call(self.service, ERROR)
        retry = super().increment(method, url, response, error, _pool, _stacktrace)  # type: ignore[misc]
        record_retry(self.service)
        return retry


R = TypeVar("R")


@functools.cache
def counting(retry_class: type[R]) -> type[R]:
    """`retry_class` that also counts; urllib3 copies a Retry with `type(self)`, so it stays."""
    return type(f"Counting{retry_class.__name__}", (CountingRetry, retry_class), {})


def count_anthropic_attempt(request: Any, call_next: Callable[[Any], Any]) -> Any:
    """Anthropic SDK middleware, innermost: it runs once per HTTP attempt, retries included.
    The retries are not the SDK's but the model client's, which counts them (`record_retry`)."""
    try:
        response = call_next(request)
    except Exception:  # a timeout or a lost connection: the model client retries or raises it
        record_call("anthropic", ERROR)
        raise
    record_call("anthropic", response.status_code)
    return response


def count_slack_calls(call: Callable[..., R]) -> Callable[..., R]:
    """Wraps the poster's `_call`: the status of the reply, or of the error it was turned into
    (Slack's `ok: false` comes with HTTP 200, and counts as 200)."""

    @functools.wraps(call)
    def counted(*args: Any, **kwargs: Any) -> R:
        try:
            response = call(*args, **kwargs)
        except Exception as error:
            response_of_error = getattr(error.__cause__, "response", None)
            record_call("slack", getattr(response_of_error, "status_code", None))
            raise
        record_call("slack", getattr(response, "status_code", None))
        return response

    return counted
