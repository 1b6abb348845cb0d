"""The model call's retry policy and the reading of error replies, without HTTP: a fake clock
that the policy's sleeps move forward, and errors as `errors.classify` makes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from bot.llm.errors import (
    ModelDeadlineExceeded,
    ModelRequestRejected,
    ModelUnavailable,
    SpendLimitReached,
    classify,
    retry_after,
)
from bot.llm.retries import Deadline, RetryPolicy

OVERLOADED = {"error": {"type": "overloaded_error", "message": "Overloaded"}}
INVALID = {"error": {"type": "invalid_request_error", "message": "bad"}}
RATE_LIMITED = {"error": {"type": "rate_limit_error", "message": "Slow down"}}
CREDIT = {"error": {"type": "invalid_request_error", "message": "Your credit balance is too low"}}


class FakeTime:
    """A clock and a sleep over it: the policy's waits pass at once and are recorded."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def run(
    policy: RetryPolicy, budget: float, error: Exception, time: FakeTime
) -> tuple[Deadline, BaseException]:
    """Call through the policy a function that always fails with `error`: the call, and what
    the policy raised in the end."""
    call = Deadline(budget, time.clock)

    def attempt() -> None:
        call.start_attempt(60.0)
        raise error

    with pytest.raises(Exception) as caught:
        policy.retrying(call).copy(sleep=time.sleep)(attempt)
    return call, caught.value


# -- reading a reply -----------------------------------------------------------------------


def test_retry_after_as_seconds_milliseconds_or_an_http_date():
    assert retry_after({"retry-after": "2"}) == 2.0
    assert retry_after({"retry-after": "0.25"}) == 0.25
    assert retry_after({"retry-after-ms": "150", "retry-after": "9"}) == pytest.approx(0.15)
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 28.0 < retry_after({"retry-after": later}) <= 30.0
    assert retry_after({"retry-after": "soon"}) is None and retry_after({}) is None


def test_the_replys_x_should_retry_wins_except_over_a_spend_limit():
    overloaded = classify(529, OVERLOADED, None, {"x-should-retry": "false"})
    assert isinstance(overloaded, ModelUnavailable) and not overloaded.may_retry
    rejected = classify(400, INVALID, None, {"x-should-retry": "true"})
    assert isinstance(rejected, ModelRequestRejected) and rejected.may_retry
    spent = classify(400, CREDIT, None, {"x-should-retry": "true", "retry-after": "1"})
    assert isinstance(spent, SpendLimitReached) and not spent.may_retry
    assert classify(529, OVERLOADED, None).may_retry and not classify(400, INVALID, None).may_retry
    assert classify(None, OVERLOADED, None).may_retry  # an `error` event mid-stream


# -- the policy ----------------------------------------------------------------------------


def test_the_asked_wait_is_kept_until_the_next_one_would_pass_the_deadline():
    time = FakeTime()
    error = ModelUnavailable("429 rate_limit_error", may_retry=True, retry_after=3.0)
    call, raised = run(RetryPolicy(max_retries=10), 10.0, error, time)
    assert time.sleeps == [3.0, 3.0, 3.0] and call.attempts == 4  # at 9 s, 1 s is left
    assert isinstance(raised, ModelDeadlineExceeded)
    assert str(raised) == (
        "the model call's deadline of 10s would pass before the next retry (4 attempts)"
    )


def test_no_wait_leaves_the_next_attempt_only_a_sliver_of_the_deadline():
    time = FakeTime()
    error = ModelUnavailable("429 rate_limit_error", may_retry=True, retry_after=2.48)
    call, raised = run(RetryPolicy(max_retries=10), 5.0, error, time)
    # A second wait would end at 4.96 s: 0.04 s for an attempt, too little to be answered in.
    assert time.sleeps == [2.48] and call.attempts == 2
    assert isinstance(raised, ModelDeadlineExceeded)


def test_the_backoff_doubles_with_jitter_up_to_its_cap():
    time = FakeTime()
    error = ModelUnavailable("could not reach the API", may_retry=True)
    call, raised = run(RetryPolicy(max_retries=5, first_delay=1.0, max_delay=4.0), 600, error, time)
    assert raised is error and call.attempts == 6
    for wait, base in zip(time.sleeps, [1.0, 2.0, 4.0, 4.0, 4.0], strict=True):
        assert 0.75 * base <= wait <= base


def test_the_last_error_stands_when_the_retries_run_out_first():
    time = FakeTime()
    error = ModelUnavailable("529 overloaded_error", may_retry=True, retry_after=100.0)
    call, raised = run(RetryPolicy(max_retries=1), 150.0, error, time)
    assert raised is error and time.sleeps == [100.0] and call.attempts == 2


@pytest.mark.parametrize(
    "error",
    [
        classify(429, RATE_LIMITED, None, {"x-should-retry": "false"}),
        classify(400, CREDIT, None, {"x-should-retry": "true", "retry-after": "1"}),
        ModelUnavailable("unreadable reply from the API (APIResponseValidationError)"),
    ],
)
def test_what_may_not_be_retried_is_sent_once(error):
    time = FakeTime()
    call, raised = run(RetryPolicy(max_retries=4), 600.0, error, time)
    assert raised is error and call.attempts == 1 and time.sleeps == []


def test_no_attempt_starts_once_the_deadline_has_passed():
    time = FakeTime()
    call = Deadline(5.0, time.clock)
    assert call.start_attempt(60.0) == 5.0  # an attempt gets no more than the time left
    time.now = 5.0
    with pytest.raises(ModelDeadlineExceeded, match=r"deadline of 5s passed \(1 attempt\)"):
        call.start_attempt(60.0)
