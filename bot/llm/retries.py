"""Our retry policy for model calls, on tenacity: what is sent again, after how long, and when
to give up, all within the call's overall deadline.

The SDK's own retries are off (`max_retries=0`): they know no deadline, and steering them
meant copying its private rules. Here a failure is sent again when its `ModelError` says it
`may_retry` (see `errors.classify`: 408/409/429/5xx/529, connection errors and timeouts, a
stream broken by a retryable error, and the reply's `x-should-retry`; never a spend limit).
The wait is what the reply asked for (`retry-after-ms`/`retry-after`), else an exponential
backoff with jitter. No wait starts that would end at or past the deadline, or so near it that
the attempt after it would have less than `MIN_ATTEMPT_SECONDS`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)
from tenacity.wait import wait_base

from bot.llm.errors import ModelDeadlineExceeded, ModelError

log = logging.getLogger(__name__)

FIRST_DELAY = 0.5  # seconds before the first retry when the reply names no wait; then doubling
MAX_DELAY = 8.0  # the longest backoff of our own (a wait the reply asks for is not capped)
# An attempt left less time than this cannot be answered in it: it would only run the call past
# its deadline by its round trip.
MIN_ATTEMPT_SECONDS = 0.05


class Deadline:
    """One call's time budget on the client's clock, and the HTTP attempts started within it."""

    def __init__(self, budget: float, clock: Callable[[], float]) -> None:
        self.budget = budget
        self.clock = clock
        self.started = clock()
        self.attempts = 0

    def left(self) -> float:
        return self.started + self.budget - self.clock()

    def elapsed(self) -> float:
        return self.clock() - self.started

    def expired(self, when: str = "passed") -> ModelDeadlineExceeded:
        return ModelDeadlineExceeded(
            f"the model call's deadline of {self.budget:g}s {when} "
            f"({self.attempts} attempt{'s' if self.attempts != 1 else ''})"
        )

    def start_attempt(self, attempt_timeout: float) -> float:
        """Count one more attempt and return its timeout: its own, or the time left if less."""
        left = self.left()
        if left <= 0:
            raise self.expired()
        self.attempts += 1
        return min(attempt_timeout, left)

    def would_pass(self, state: RetryCallState) -> bool:
        """A tenacity stop: the wait before the next attempt would reach the deadline, or
        leave that attempt less than `MIN_ATTEMPT_SECONDS`."""
        return state.upcoming_sleep + MIN_ATTEMPT_SECONDS >= self.left()


def may_retry(error: BaseException) -> bool:
    return isinstance(error, ModelError) and error.may_retry


class wait_asked_or(wait_base):
    """The wait the failed reply asked for (`ModelError.retry_after`), else `backoff`."""

    def __init__(self, backoff: wait_base) -> None:
        self.backoff = backoff

    def __call__(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        asked = getattr(error, "retry_after", None)
        return asked if asked is not None and asked > 0 else self.backoff(state)


@dataclass(frozen=True)
class RetryPolicy:
    """At most `max_retries` retries. Our backoff doubles from `first_delay` up to `max_delay`,
    less up to a quarter of each at random (the first retry comes 0.75 to 1 x `first_delay`
    after the failure), so that callers that failed together do not all come back together."""

    max_retries: int
    first_delay: float = FIRST_DELAY
    max_delay: float = MAX_DELAY

    def retrying(self, deadline: Deadline) -> Retrying:
        """A tenacity controller for one call (it holds that call's state: one per call)."""

        def give_up(state: RetryCallState) -> NoReturn:
            """Stopped: out of retries (the last error stands), else the deadline is near."""
            error = state.outcome.exception() if state.outcome else None
            if state.attempt_number > self.max_retries and error is not None:
                raise error
            raise deadline.expired("would pass before the next retry")

        return Retrying(
            retry=retry_if_exception(may_retry),
            wait=wait_asked_or(
                wait_exponential(multiplier=0.75 * self.first_delay, max=0.75 * self.max_delay)
                + wait_random(0, 0.25 * self.first_delay)
            ),
            stop=stop_after_attempt(self.max_retries + 1) | deadline.would_pass,
            before_sleep=self.before_sleep,
            retry_error_callback=give_up,
        )

    @staticmethod
    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.info(
            "model call attempt %d failed (%s); sending again in %.2fs",
            state.attempt_number, error, state.upcoming_sleep,
        )  # fmt: skip
