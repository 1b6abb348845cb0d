"""`ModelClient` against the Anthropic emulator, through the real SDK over loopback HTTP."""

from __future__ import annotations

import json
import logging
import time
import traceback
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from itertools import pairwise
from typing import Any

import pytest

from bot.llm.client import (
    ModelClient,
    ModelDeadlineExceeded,
    ModelRequestRejected,
    ModelUnavailable,
    SpendLimitReached,
)
from bot.observability.calls import PROCESS
from emulators.anthropic import AnthropicEmulator, Turn, create_app, sse
from emulators.server import free_port, running

KEY = "test-anthropic-key"
MODEL = "claude-haiku-4-5"
HELLO = [{"role": "user", "content": "Hello"}]


class Switchboard:
    """One loopback server for the module whose app each test swaps (starting servers is slow)."""

    def __init__(self) -> None:
        self.app: Any = create_app()

    async def __call__(self, scope, receive, send) -> None:
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def switchboard() -> Iterator[tuple[Switchboard, str]]:
    board = Switchboard()
    with running(board) as url:
        yield board, url


@pytest.fixture
def serve(switchboard) -> Callable[..., str]:
    """Serve an emulator (or any ASGI app) for this test; returns the base URL."""
    board, url = switchboard

    def start(emulator: AnthropicEmulator | None = None, *, app: Any = None) -> str:
        board.app = app or create_app(emulator)
        return url

    return start


@pytest.fixture
def connect() -> Iterator[Callable[..., ModelClient]]:
    clients: list[ModelClient] = []

    def make(url: str, **options: Any) -> ModelClient:
        options.setdefault("api_key", KEY)
        clients.append(ModelClient(base_url=url, **options))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


def ask(client: ModelClient, **options: Any):
    options.setdefault("model", MODEL)
    options.setdefault("max_tokens", 256)
    options.setdefault("system", "You are terse.")
    options.setdefault("messages", HELLO)
    return client.create(**options)


# -- replies -------------------------------------------------------------------------------


def test_a_text_reply_and_one_log_line_without_content(serve, connect, caplog):
    emulator = AnthropicEmulator([Turn.text("Hello there, human.")])
    client = connect(serve(emulator))
    with caplog.at_level(logging.INFO, logger="bot.llm.client"):
        reply = ask(client)
    assert reply.content == [{"type": "text", "text": "Hello there, human."}]
    assert reply.stop_reason == "end_turn" and reply.model == MODEL
    assert reply.id.startswith("msg_") and reply.attempts == 1
    assert reply.request_id == emulator.requests[0].request_id
    assert reply.usage.input_tokens > 0 and reply.usage.output_tokens > 0
    [line] = [r.getMessage() for r in caplog.records if r.name == "bot.llm.client"]
    assert f"model={MODEL}" in line and "stop_reason=end_turn" in line and "attempts=1" in line
    assert "Hello there" not in line


def test_a_tool_use_reply_goes_back_as_the_next_assistant_message(serve, connect):
    emulator = AnthropicEmulator(
        [Turn.tool_use("read_file", {"path": "README.md"}, text="Reading."), Turn.text("Done.")]
    )
    client = connect(serve(emulator))
    tool = {
        "name": "read_file",
        "description": "Read a file of the repository",
        "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}},
    }
    first = ask(client, tools=[tool], tool_choice={"type": "auto"})
    assert first.stop_reason == "tool_use"
    text, call = first.content
    assert text == {"type": "text", "text": "Reading."}
    assert call["type"] == "tool_use" and call["name"] == "read_file"
    assert call["input"] == {"path": "README.md"} and call["id"].startswith("toolu_")
    result = {"type": "tool_result", "tool_use_id": call["id"], "content": "# repocrew"}
    messages = [*HELLO, {"role": "assistant", "content": first.content}]
    second = ask(client, tools=[tool], messages=[*messages, {"role": "user", "content": [result]}])
    assert second.content == [{"type": "text", "text": "Done."}]
    assert emulator.message_bodies()[1]["messages"][1]["content"] == first.content


def test_usage_counts_a_cache_write_then_a_cache_read(serve, connect):
    client = connect(serve(AnthropicEmulator()))
    system = [{"type": "text", "text": "rule " * 1200, "cache_control": {"type": "ephemeral"}}]
    written = ask(client, system=system).usage
    read = ask(client, system=system).usage
    assert written.cache_creation_input_tokens > 1024 and written.cache_read_input_tokens == 0
    assert read.cache_read_input_tokens == written.cache_creation_input_tokens
    assert read.cache_creation_input_tokens == 0
    assert read.all_input_tokens == written.all_input_tokens


# -- retries -------------------------------------------------------------------------------


def test_an_overload_is_retried_as_retry_after_says(serve, connect):
    emulator = AnthropicEmulator([Turn.text("Back.")])
    emulator.overload(times=2, retry_after=0.2)
    client = connect(serve(emulator))
    started = time.monotonic()
    reply = ask(client)
    assert time.monotonic() - started >= 0.4
    assert reply.content == [{"type": "text", "text": "Back."}] and reply.attempts == 3
    requests = emulator.requests
    assert [r.retry_count for r in requests] == [0, 1, 2]
    assert [r.status for r in requests] == [529, 529, 200]
    gaps = [later.received_at - earlier.received_at for earlier, later in pairwise(requests)]
    assert min(gaps) >= 0.2


@pytest.mark.parametrize("fault", ["rate_limit", "server_error"])
def test_a_rate_limit_or_a_server_error_is_retried(serve, connect, fault):
    emulator = AnthropicEmulator([Turn.text("Fine.")])
    getattr(emulator, fault)(retry_after=0.05)
    reply = ask(connect(serve(emulator)))
    assert reply.attempts == 2 and [r.status for r in emulator.requests][1] == 200


def test_unavailable_once_the_retries_run_out(serve, connect):
    emulator = AnthropicEmulator()
    emulator.overload(times=3, retry_after=0.01)
    with pytest.raises(ModelUnavailable) as caught:
        ask(connect(serve(emulator), max_retries=2))
    assert caught.value.status == 529 and caught.value.error_type == "overloaded_error"
    assert str(caught.value) == "529 overloaded_error: Overloaded"
    assert len(emulator.requests) == 3


def test_an_unreachable_api_is_unavailable(connect):
    client = connect(f"http://127.0.0.1:{free_port()}", max_retries=0)
    with pytest.raises(ModelUnavailable, match="could not reach the API"):
        ask(client)


def test_a_bad_request_is_not_retried(serve, connect):
    emulator = AnthropicEmulator()
    with pytest.raises(ModelRequestRejected) as caught:
        ask(connect(serve(emulator)), messages=[{"role": "assistant", "content": "Hi"}])
    assert caught.value.status == 400 and caught.value.error_type == "invalid_request_error"
    assert len(emulator.requests) == 1


@pytest.mark.parametrize("kind", ["credit_balance", "usage_limit", "enforced"])
def test_a_spend_limit_is_never_retried(serve, connect, kind):
    emulator = AnthropicEmulator()
    emulator.spend_limit(kind, times=3)
    with pytest.raises(SpendLimitReached) as caught:
        ask(connect(serve(emulator)))
    assert caught.value.status in (400, 429)
    assert len(emulator.requests) == 1  # even the 429 that says `x-should-retry: true`


def test_a_wrong_key_is_rejected_and_never_shown(serve, connect, caplog):
    secret = "sk-ant-api03-wrong-but-secret-0123456789"
    emulator = AnthropicEmulator(api_keys={KEY})
    client = connect(serve(emulator), api_key=secret)
    with caplog.at_level(logging.DEBUG), pytest.raises(ModelRequestRejected) as caught:
        ask(client)
    error = caught.value
    assert error.status == 401 and error.error_type == "authentication_error"
    assert len(emulator.requests) == 1
    shown = "".join(traceback.format_exception(error)) + repr(error.args) + caplog.text
    assert secret not in shown and "invalid x-api-key" in str(error)


def test_a_key_echoed_by_the_api_is_redacted(serve, connect, caplog):
    secret = "sk-ant-api03-echoed-back-0123456789"
    emulator = AnthropicEmulator()
    emulator.fail("invalid_request_error", message=f"unexpected key {secret} in body")
    with (
        caplog.at_level(logging.DEBUG, logger="bot"),
        pytest.raises(ModelRequestRejected) as caught,
    ):
        ask(connect(serve(emulator), api_key=secret))
    assert secret not in str(caught.value) and "unexpected key [REDACTED" in str(caught.value)
    assert secret not in caplog.text


# -- deadline ------------------------------------------------------------------------------


def test_a_slow_answer_ends_at_the_deadline(serve, connect):
    emulator = AnthropicEmulator()
    emulator.slow_down(1.5)
    started = time.monotonic()
    with pytest.raises(ModelDeadlineExceeded, match="deadline of 0.5s passed"):
        ask(connect(serve(emulator)), deadline=0.5)
    assert 0.4 <= time.monotonic() - started < 2.0


def test_no_retry_is_waited_for_past_the_deadline(serve, connect):
    emulator = AnthropicEmulator()
    emulator.rate_limit(retry_after=3)
    started = time.monotonic()
    with pytest.raises(ModelDeadlineExceeded, match="before the next retry"):
        ask(connect(serve(emulator), deadline=1.0))
    assert time.monotonic() - started < 0.5 and len(emulator.requests) == 1


# -- streaming -----------------------------------------------------------------------------


def test_large_max_tokens_are_streamed_into_the_same_reply(serve, connect):
    turns = [Turn.tool_use("read_file", {"path": "a.py"}, text="Look.")] * 2
    emulator = AnthropicEmulator(turns)
    client = connect(serve(emulator), stream_from_max_tokens=1000)
    plain = ask(client, max_tokens=999)
    streamed = ask(client, max_tokens=1000)
    assert [body.get("stream", False) for body in emulator.message_bodies()] == [False, True]
    assert emulator.requests[1].events[-1] == "message_stop"
    assert streamed.request_id == emulator.requests[1].request_id
    assert streamed.stop_reason == plain.stop_reason == "tool_use"
    assert streamed.usage == plain.usage
    strip = [{k: v for k, v in block.items() if k != "id"} for block in streamed.content]
    assert strip == [{k: v for k, v in block.items() if k != "id"} for block in plain.content]


def test_a_broken_stream_is_sent_again(serve, connect):
    emulator = AnthropicEmulator([Turn.text("Whole this time.")])
    emulator.break_stream(after=3)
    client = connect(serve(emulator), stream_from_max_tokens=1000, retry_delay=0.01)
    reply = ask(client, max_tokens=2000)
    assert reply.content == [{"type": "text", "text": "Whole this time."}]
    assert reply.attempts == 2
    assert [r.events[-1] for r in emulator.requests] == ["error", "message_stop"]


def test_a_stream_that_keeps_breaking_is_unavailable(serve, connect):
    emulator = AnthropicEmulator()
    emulator.break_stream(times=5)
    client = connect(serve(emulator), stream_from_max_tokens=1, max_retries=2, retry_delay=0.01)
    with pytest.raises(ModelUnavailable, match="overloaded_error"):
        ask(client)
    assert len(emulator.requests) == 3


def test_a_connection_lost_mid_stream_is_sent_again(serve, connect):
    emulator = AnthropicEmulator([Turn.text("Reconnected.")])
    emulator_app = create_app(emulator)
    cuts = []

    async def cut_once(scope, receive, send):
        if scope["type"] != "http" or cuts:
            return await emulator_app(scope, receive, send)
        cuts.append(json.loads((await receive())["body"]))
        headers = [(b"content-type", b"text/event-stream")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        start = {"type": "message_start", "message": {"id": "msg_cut"}}
        body = sse.encode(("message_start", start))
        await send({"type": "http.response.body", "body": body, "more_body": True})
        raise RuntimeError("connection lost (test)")

    client = connect(serve(app=cut_once), stream_from_max_tokens=1, retry_delay=0.01)
    reply = ask(client)
    assert reply.content == [{"type": "text", "text": "Reconnected."}]
    assert len(cuts) == 1 and cuts[0]["stream"] is True and reply.attempts == 2


# -- the retry policy's rules, over HTTP ---------------------------------------------------


def test_a_retry_after_date_past_the_deadline_ends_the_call_at_once(serve, connect):
    emulator = AnthropicEmulator()
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    emulator.rate_limit(retry_after=None, headers={"retry-after": later})
    started = time.monotonic()
    with pytest.raises(ModelDeadlineExceeded, match="before the next retry"):
        ask(connect(serve(emulator), retry_delay=0.01), deadline=5)
    assert time.monotonic() - started < 1.0 and len(emulator.requests) == 1


def test_retry_after_ms_is_waited_for_before_retry_after(serve, connect):
    emulator = AnthropicEmulator([Turn.text("On time.")])
    emulator.overload(headers={"retry-after-ms": "300", "retry-after": "30"})
    reply = ask(connect(serve(emulator), retry_delay=0.01))
    limited, answered = emulator.requests
    assert reply.attempts == 2 and 0.3 <= answered.received_at - limited.received_at < 2.0


def test_an_overload_that_says_x_should_retry_false_is_not_retried(serve, connect):
    emulator = AnthropicEmulator()
    emulator.overload(times=2, headers={"x-should-retry": "false"})
    with pytest.raises(ModelUnavailable, match="529 overloaded_error"):
        ask(connect(serve(emulator), retry_delay=0.01))
    assert len(emulator.requests) == 1


def test_a_rejection_that_says_x_should_retry_true_is_retried(serve, connect):
    emulator = AnthropicEmulator([Turn.text("Accepted.")])
    emulator.fail("invalid_request_error", headers={"x-should-retry": "true"})
    reply = ask(connect(serve(emulator), retry_delay=0.01))
    assert reply.attempts == 2 and [r.status for r in emulator.requests] == [400, 200]


def test_the_backoff_never_sleeps_past_the_deadline(serve, connect):
    emulator = AnthropicEmulator()
    emulator.overload(times=50)  # no retry-after: our backoff, 0.3-0.4 s, 0.6-0.7 s, 1.2-1.3 s
    client = connect(serve(emulator), max_retries=20, retry_delay=0.4)
    started = time.monotonic()
    with pytest.raises(ModelDeadlineExceeded, match="before the next retry"):
        ask(client, deadline=1.0)
    assert time.monotonic() - started < 1.0
    requests = emulator.requests
    gaps = [later.received_at - earlier.received_at for earlier, later in pairwise(requests)]
    assert 2 <= len(requests) <= 3 and min(gaps) >= 0.3
    assert [r.retry_count for r in requests] == list(range(len(requests)))


def test_a_resent_stream_is_a_retry_in_its_header_and_metrics(serve, connect):
    def retries() -> float:
        return PROCESS.get_sample_value("repocrew_external_retries_total", {"service": "anthropic"})

    emulator = AnthropicEmulator([Turn.text("Again.")])
    emulator.break_stream()
    before = retries()
    reply = ask(connect(serve(emulator), stream_from_max_tokens=1, retry_delay=0.01))
    assert reply.attempts == 2 and retries() - before == 1
    assert [r.retry_count for r in emulator.requests] == [0, 1]


def test_a_key_echoed_in_a_retried_error_is_redacted_in_the_log(serve, connect, caplog):
    secret = "sk-ant-api03-echoed-on-retry-0123456789"
    emulator = AnthropicEmulator([Turn.text("Fine.")])
    emulator.overload(message=f"overloaded near key {secret}", retry_after=0.01)
    with caplog.at_level(logging.INFO, logger="bot"):
        reply = ask(connect(serve(emulator), api_key=secret))
    assert reply.attempts == 2 and "sending again" in caplog.text
    assert "near key [REDACTED" in caplog.text and secret not in caplog.text
