"""The Anthropic emulator through the real, unpatched `anthropic` SDK over loopback HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import anthropic
import httpx
import pytest

from emulators.anthropic import AnthropicEmulator, Turn, create_app, sse
from emulators.anthropic.emulator import DEFAULT_REPLY
from emulators.server import running
from tests.conftest import CORPUS

KEY = "test-anthropic-key"
MODEL = "claude-haiku-4-5"
FIXTURES = CORPUS / "anthropic" / "sdk-python-fixtures"
API_HEADERS = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}


class Switchboard:
    """One loopback server for the module whose app each test swaps (starting servers is slow)."""

    def __init__(self) -> None:
        self.app = create_app()

    async def __call__(self, scope, receive, send) -> None:
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def switchboard() -> Iterator[tuple[Switchboard, str]]:
    board = Switchboard()
    with running(board) as url:
        yield board, url


@pytest.fixture
def serve(switchboard) -> Callable[[AnthropicEmulator], str]:
    """Serve an emulator for this test; returns its base URL."""
    board, url = switchboard

    def start(emulator: AnthropicEmulator) -> str:
        board.app = create_app(emulator)
        return url

    return start


_CLIENTS: list[anthropic.Anthropic] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    """Close every SDK client a test made: an unclosed one warns at a later test's GC."""
    yield
    while _CLIENTS:
        _CLIENTS.pop().close()


def sdk(
    url: str, *, max_retries: int = 0, api_key: str = KEY, **options: Any
) -> anthropic.Anthropic:
    client = anthropic.Anthropic(api_key=api_key, base_url=url, max_retries=max_retries, **options)
    _CLIENTS.append(client)
    return client


def ask(
    client: anthropic.Anthropic, text: str = "Hello", **options: Any
) -> anthropic.types.Message:
    options.setdefault("messages", [{"role": "user", "content": text}])
    return client.messages.create(model=MODEL, max_tokens=256, **options)


WEATHER_TOOL = {
    "name": "get_weather",
    "description": "The weather in a city",
    "input_schema": {
        "type": "object",
        "properties": {"location": {"type": "string"}, "units": {"enum": ["c", "f"]}},
        "required": ["location"],
    },
}


# -- answering ----------------------------------------------------------------------------


def test_a_plain_message_is_answered_from_the_script(serve):
    emulator = AnthropicEmulator([Turn.text("Hi, I am the planner.")], api_keys=[KEY])
    client = sdk(serve(emulator))

    raw = client.messages.with_raw_response.create(
        model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "Who are you?"}]
    )
    message = raw.parse()

    assert message.content[0].type == "text" and message.content[0].text == "Hi, I am the planner."
    assert message.id.startswith("msg_") and message.model == MODEL
    assert message.stop_reason == "end_turn" and message.stop_sequence is None
    assert message.usage.input_tokens == 3  # "Who are you?": 12 characters
    assert message.usage.output_tokens == 6  # 21 characters
    assert message.usage.service_tier == "standard"
    assert raw.headers["request-id"].startswith("req_")
    (seen,) = emulator.requests
    assert seen.request_id == raw.headers["request-id"] and seen.status == 200
    assert seen.body["messages"] == [{"role": "user", "content": "Who are you?"}]
    assert "anthropic-version" in seen.headers and seen.retry_count == 0
    assert seen.response["id"] == message.id


def test_a_two_turn_tool_use_loop(serve):
    emulator = AnthropicEmulator(
        [
            Turn.tool_use("get_weather", {"location": "Paris", "units": "c"}, text="Checking."),
            Turn.text("It is 18°C and sunny in Paris.", match={"last_user": "18"}),
        ]
    )
    client = sdk(serve(emulator))
    history: list[dict[str, Any]] = [{"role": "user", "content": "Weather in Paris?"}]

    first = ask(client, messages=history, tools=[WEATHER_TOOL])
    assert first.stop_reason == "tool_use"
    text, call = first.content
    assert text.type == "text" and call.type == "tool_use"
    assert call.id.startswith("toolu_") and call.name == "get_weather"
    assert call.input == {"location": "Paris", "units": "c"}

    history += [
        {"role": "assistant", "content": [block.model_dump() for block in first.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "18°C, sunny"}],
        },
    ]
    second = ask(client, messages=history, tools=[WEATHER_TOOL])

    assert second.stop_reason == "end_turn"
    assert second.content[0].text == "It is 18°C and sunny in Paris."
    assert second.usage.input_tokens > first.usage.input_tokens
    assert [len(body["messages"]) for body in emulator.message_bodies()] == [1, 3]


def test_one_script_serves_several_agents_by_system_prompt(serve):
    emulator = AnthropicEmulator(
        [
            {"text": "plan: 1. read 2. fix", "match": {"system": "planner"}},
            {"text": "review: looks good", "match": {"system": "reviewer"}},
            {"text": "plan v2", "match": {"system": "planner"}},
        ]
    )
    client = sdk(serve(emulator))

    replies = [
        ask(client, system=f"You are the {role}.").content[0].text
        for role in ("reviewer", "planner", "planner")
    ]
    assert replies == ["review: looks good", "plan: 1. read 2. fix", "plan v2"]


def test_an_exhausted_script_fails_loudly_and_is_not_retried(serve):
    emulator = AnthropicEmulator([Turn.text("only once")])
    client = sdk(serve(emulator), max_retries=2)
    ask(client)

    with pytest.raises(anthropic.InternalServerError) as error:
        ask(client, "And again?")

    assert error.value.status_code == 500
    assert error.value.body["error"]["type"] == "api_error"
    assert "script is exhausted" in error.value.body["error"]["message"]
    assert "And again?" in error.value.body["error"]["message"]
    assert len(emulator.requests) == 2


def test_a_script_file_is_served(serve, tmp_path):
    path = tmp_path / "crew.toml"
    path.write_text(
        '[[turns]]\ntext = "from toml"\n\n'
        '[[turns]]\ntext = "stopped"\nstop_reason = "max_tokens"\n',
        encoding="utf-8",
    )
    client = sdk(serve(AnthropicEmulator(path)))

    assert ask(client).content[0].text == "from toml"
    assert ask(client).stop_reason == "max_tokens"


def test_the_default_app_accepts_any_key_and_answers_a_fixed_text():
    with running(create_app()) as url:
        client = sdk(url, api_key="anything")
        assert ask(client).content[0].text == DEFAULT_REPLY
        assert ask(client).content[0].text == DEFAULT_REPLY


def test_count_tokens_agrees_with_the_usage_of_a_message(serve):
    client = sdk(serve(AnthropicEmulator()))
    question = "How many tokens is this question, roughly?"

    counted = client.messages.count_tokens(
        model=MODEL, messages=[{"role": "user", "content": question}], tools=[WEATHER_TOOL]
    )
    answered = ask(client, question, tools=[WEATHER_TOOL])

    assert counted.input_tokens == answered.usage.input_tokens > 10


# -- streaming ----------------------------------------------------------------------------


def test_streaming_text_and_a_tool_call(serve):
    long_text = "Let me look up the weather for you in Paris, France, right away."
    tool_input = {"location": "Paris, France", "units": "c"}
    emulator = AnthropicEmulator([Turn.tool_use("get_weather", tool_input, text=long_text)])
    client = sdk(serve(emulator))

    with client.messages.stream(
        model=MODEL,
        max_tokens=256,
        tools=[WEATHER_TOOL],
        messages=[{"role": "user", "content": "Weather in Paris?"}],
    ) as stream:
        events = list(stream)
        final = stream.get_final_message()

    text_deltas = [
        e.delta.text
        for e in events
        if e.type == "content_block_delta" and e.delta.type == "text_delta"
    ]
    json_deltas = [
        e.delta.partial_json
        for e in events
        if e.type == "content_block_delta" and e.delta.type == "input_json_delta"
    ]
    assert "".join(text_deltas) == long_text and len(text_deltas) > 1
    assert json.loads("".join(json_deltas)) == tool_input and len(json_deltas) > 2
    assert final.content[0].text == long_text
    assert final.content[1].input == tool_input and final.content[1].id.startswith("toolu_")
    assert final.stop_reason == "tool_use"
    assert final.usage.output_tokens == emulator.requests[0].response["usage"]["output_tokens"]
    assert emulator.requests[0].events[-2:] == ["message_delta", "message_stop"]


def test_a_broken_stream_raises_midway_and_keeps_the_turn_for_a_retry(serve):
    emulator = AnthropicEmulator([Turn.text("A complete answer, eventually.")])
    emulator.break_stream(after=3)
    client = sdk(serve(emulator))
    messages = [{"role": "user", "content": "Go"}]

    with pytest.raises(anthropic.APIStatusError) as error:
        with client.messages.stream(model=MODEL, max_tokens=64, messages=messages) as stream:
            stream.get_final_message()
    assert error.value.body == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
    }
    assert emulator.requests[0].events == [
        "message_start",
        "content_block_start",
        "ping",
        "error",
    ]

    with client.messages.stream(model=MODEL, max_tokens=64, messages=messages) as stream:
        assert stream.get_final_message().content[0].text == "A complete answer, eventually."


def test_the_async_client_creates_and_streams(serve):
    emulator = AnthropicEmulator([Turn.text("async one"), Turn.text("async two, streamed")])
    url = serve(emulator)

    async def conversation() -> list[str]:
        async with anthropic.AsyncAnthropic(api_key=KEY, base_url=url, max_retries=0) as client:
            messages = [{"role": "user", "content": "Hi"}]
            created = await client.messages.create(model=MODEL, max_tokens=64, messages=messages)
            async with client.messages.stream(
                model=MODEL, max_tokens=64, messages=messages
            ) as stream:
                streamed = await stream.get_final_message()
            return [created.content[0].text, streamed.content[0].text]

    assert asyncio.run(conversation()) == ["async one", "async two, streamed"]


# -- validation and authentication --------------------------------------------------------

TOOL_USE = {"type": "tool_use", "id": "toolu_01abc", "name": "get_weather", "input": {}}
CACHED = {"type": "text", "text": "rules", "cache_control": {"type": "ephemeral"}}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_tokens": 0}, "max_tokens: Input should be greater than or equal to 1"),
        (
            {"messages": [{"role": "assistant", "content": "I start"}]},
            'first message must use the "user" role',
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": "Weather?"},
                    {"role": "assistant", "content": [TOOL_USE]},
                    {"role": "user", "content": "Well?"},
                ]
            },
            "`tool_use` ids were found without `tool_result` blocks immediately after: toolu_01abc",
        ),
        ({"system": [CACHED] * 5}, "A maximum of 4 blocks with cache_control may be provided."),
    ],
)
def test_invalid_requests_raise_bad_request(serve, options, message):
    emulator = AnthropicEmulator([Turn.text("unused")])
    client = sdk(serve(emulator), max_retries=2)
    options.setdefault("messages", [{"role": "user", "content": "Hi"}])

    with pytest.raises(anthropic.BadRequestError) as error:
        client.messages.create(model=MODEL, **{"max_tokens": 64, **options})

    body = error.value.body
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    assert message in body["error"]["message"]
    assert body["request_id"] == error.value.request_id
    assert len(emulator.requests) == 1  # a 400 is not retried
    assert emulator.script.remaining == 1


def test_a_missing_field_is_a_bad_request(serve):
    url = serve(AnthropicEmulator())
    response = httpx.post(f"{url}/v1/messages", headers=API_HEADERS, json={"model": MODEL})
    assert response.status_code == 400
    assert response.json()["error"] == {
        "type": "invalid_request_error",
        "message": "max_tokens: Field required",
    }


def test_a_wrong_or_missing_key_is_refused(serve):
    emulator = AnthropicEmulator(api_keys=[KEY])
    url = serve(emulator)
    wrong = sdk(url, api_key="not-the-key", max_retries=2)

    with pytest.raises(anthropic.AuthenticationError) as error:
        ask(wrong)
    assert error.value.body["error"] == {
        "type": "authentication_error",
        "message": "invalid x-api-key",
    }

    missing = httpx.post(
        f"{url}/v1/messages",
        headers={"anthropic-version": "2023-06-01"},
        json={"model": MODEL, "max_tokens": 1, "messages": []},
    )
    assert missing.status_code == 401 and missing.headers["request-id"].startswith("req_")
    assert missing.json()["error"]["type"] == "authentication_error"
    assert [r.status for r in emulator.requests] == [401, 401]


def test_an_unknown_path_is_not_found(serve):
    with pytest.raises(anthropic.NotFoundError):
        sdk(serve(AnthropicEmulator())).models.retrieve("claude-no-such-model")


# -- faults -------------------------------------------------------------------------------


def test_an_overload_is_retried_by_the_sdk(serve):
    emulator = AnthropicEmulator([Turn.text("made it")])
    emulator.overload()
    client = sdk(serve(emulator), max_retries=2)

    assert ask(client).content[0].text == "made it"

    assert [r.status for r in emulator.requests] == [529, 200]
    assert [r.headers["x-stainless-retry-count"] for r in emulator.requests] == ["0", "1"]


def test_an_overload_without_retries_raises(serve):
    emulator = AnthropicEmulator([Turn.text("never sent")])
    emulator.overload(message="Overloaded, try later")
    with pytest.raises(anthropic.OverloadedError) as error:
        ask(sdk(serve(emulator)))
    assert error.value.body["error"] == {
        "type": "overloaded_error",
        "message": "Overloaded, try later",
    }
    assert emulator.script.remaining == 1


def test_a_rate_limit_retry_waits_as_long_as_retry_after_says(serve):
    emulator = AnthropicEmulator([Turn.text("after the wait")])
    # The SDK's own first backoff is at most 0.5 s, so a longer wait shows it obeyed the header.
    emulator.rate_limit(retry_after=0.6)
    client = sdk(serve(emulator), max_retries=1)

    assert ask(client).content[0].text == "after the wait"

    limited, retried = emulator.requests
    assert (limited.status, retried.status) == (429, 200)
    assert retried.retry_count == 1
    assert retried.received_at - limited.received_at >= 0.6


def test_a_rate_limit_carries_retry_after(serve):
    emulator = AnthropicEmulator()
    emulator.rate_limit(retry_after=7)
    with pytest.raises(anthropic.RateLimitError) as error:
        ask(sdk(serve(emulator)))
    assert error.value.response.headers["retry-after"] == "7"
    assert error.value.response.headers["x-should-retry"] == "true"
    assert error.value.body["error"]["type"] == "rate_limit_error"


def test_a_server_error_then_success(serve):
    emulator = AnthropicEmulator([Turn.text("ok")])
    emulator.server_error(times=2, retry_after=0.01)
    client = sdk(serve(emulator), max_retries=2)

    assert ask(client).content[0].text == "ok"
    assert [r.status for r in emulator.requests] == [500, 500, 200]
    assert [r.retry_count for r in emulator.requests] == [0, 1, 2]


def test_a_slow_response_times_out(serve):
    emulator = AnthropicEmulator([Turn.text("slow"), Turn.text("fast")])
    emulator.slow_down(0.5)
    client = sdk(serve(emulator), timeout=0.2)

    with pytest.raises(anthropic.APITimeoutError):
        ask(client)
    assert ask(client).content[0].text == "fast"


# -- prompt caching -----------------------------------------------------------------------


def test_a_repeated_prefix_is_read_from_the_cache(serve):
    emulator = AnthropicEmulator([Turn.text("first"), Turn.text("second")])
    client = sdk(serve(emulator))
    rules = "Follow the house style. " * 200  # 4,800 characters: 1,200 tokens, above 1,024
    system = [{"type": "text", "text": rules, "cache_control": {"type": "ephemeral"}}]

    first = ask(client, "Plan issue 1", system=system).usage
    second = ask(client, "Plan issue 2", system=system).usage

    assert first.cache_creation_input_tokens == 1200 and first.cache_read_input_tokens == 0
    assert first.cache_creation.ephemeral_5m_input_tokens == 1200
    assert second.cache_read_input_tokens == 1200 and second.cache_creation_input_tokens == 0
    for usage in (first, second):
        total = (
            usage.input_tokens + usage.cache_creation_input_tokens + usage.cache_read_input_tokens
        )
        assert total == 1200 + 3  # "Plan issue N": 12 characters


def test_a_prefix_below_the_minimum_is_not_cached(serve):
    emulator = AnthropicEmulator(min_cacheable_tokens=2048)
    client = sdk(serve(emulator))
    system = [{"type": "text", "text": "x" * 4800, "cache_control": {"type": "ephemeral"}}]

    for _ in range(2):
        usage = ask(client, system=system).usage
        assert usage.cache_creation_input_tokens == usage.cache_read_input_tokens == 0
        assert usage.input_tokens == 1200 + 2


# -- fidelity to the recorded exchanges ---------------------------------------------------


def recorded_exchanges() -> list[Any]:
    """The recorded exchanges the emulator can answer alike (none when the corpus is absent)."""
    found = []
    for path in sorted(FIXTURES.glob("lib/**/__inline_snapshot__/**/*.json")):
        for index, exchange in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            if emulated_kinds(exchange):
                found.append(pytest.param(exchange, id=f"{path.stem[:8]}-{index}"))
    return found


def emulated_kinds(exchange: dict[str, Any]) -> bool:
    """A 200 JSON answer made only of text / tool_use blocks (no server tools, no container)."""
    body = exchange["response"]["body"]
    return (
        exchange["response"]["status_code"] == 200
        and isinstance(body, dict)
        and "container" not in body
        and {block["type"] for block in body["content"]} <= {"text", "tool_use"}
    )


def same_shape(ours: Any, theirs: Any, where: str = "") -> None:
    """Every key `theirs` has, `ours` has too, holding a value of the same JSON type."""
    assert type(ours) is type(theirs) or theirs is None, f"{where}: {ours!r} vs {theirs!r}"
    if isinstance(theirs, dict):
        for key, value in theirs.items():
            assert key in ours, f"{where}.{key} is missing"
            same_shape(ours[key], value, f"{where}.{key}")


def replay(url: str, exchange: dict[str, Any]) -> httpx.Response:
    parts = urlsplit(exchange["request"]["url"])
    target = f"{url}{parts.path}" + (f"?{parts.query}" if parts.query else "")
    return httpx.post(target, headers=API_HEADERS, json=exchange["request"]["body"])


def script_like(recorded: dict[str, Any]) -> Turn:
    blocks = [
        {"type": "text", "text": b["text"]}
        if b["type"] == "text"
        else {"type": "tool_use", "name": b["name"], "input": b["input"]}
        for b in recorded["content"]
    ]
    return Turn(content=tuple(blocks), stop_reason=recorded["stop_reason"])


@pytest.mark.parametrize("exchange", recorded_exchanges())
def test_answers_have_the_recorded_shape(corpus, serve, exchange):
    recorded = exchange["response"]["body"]
    url = serve(AnthropicEmulator([script_like(recorded)]))

    response = replay(url, exchange)
    ours = response.json()

    assert response.status_code == 200, ours
    same_shape(dict(ours, content=[]), dict(recorded, content=[]))
    for mine, theirs in zip(ours["content"], recorded["content"], strict=True):
        same_shape(mine, theirs, f"content.{theirs['type']}")
    assert ours["stop_reason"] == recorded["stop_reason"]
    assert response.headers["request-id"].startswith("req_")


def test_the_recorded_bad_request_gets_the_same_error(corpus, serve):
    path = FIXTURES / "lib/tools/__inline_snapshot__/test_runners/TestSyncRunTools"
    exchange = json.loads((path / "f59a9391-643b-422c-96dc-1f28bc7ea4d7.json").read_text())[1]
    url = serve(AnthropicEmulator([Turn.text("never")]))

    response = replay(url, exchange)

    recorded = exchange["response"]
    assert response.status_code == recorded["status_code"] == 400
    same_shape(response.json(), recorded["body"])
    assert response.json()["error"] == recorded["body"]["error"]
    assert response.headers["x-should-retry"] == recorded["headers"]["x-should-retry"]


def test_a_rate_limit_has_the_recorded_shape(corpus, serve):
    path = FIXTURES / "lib/_parse/__inline_snapshot__/test_messages/TestAsyncParse"
    recorded = json.loads((path / "d743d628-16aa-4c9f-ae78-51deb578f746.json").read_text())[0]
    emulator = AnthropicEmulator()
    emulator.rate_limit()
    url = serve(emulator)

    response = replay(url, recorded)

    assert response.status_code == recorded["response"]["status_code"] == 429
    same_shape(response.json(), recorded["response"]["body"])
    assert response.headers["x-should-retry"] == recorded["response"]["headers"]["x-should-retry"]


def stream_fixtures() -> list[Any]:
    params = [
        pytest.param((FIXTURES / f"lib/streaming/fixtures/{name}").read_text(), id=name)
        for name in ("basic_response.txt", "tool_use_response.txt", "refusal_response.txt")
        if FIXTURES.is_dir()
    ]
    for path in sorted(FIXTURES.glob("lib/tools/__inline_snapshot__/**/*.json")):
        for index, exchange in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            if str(exchange["response"]["body"]).startswith("event:"):
                params.append(
                    pytest.param(exchange["response"]["body"], id=f"{path.stem[:8]}-{index}")
                )
    return params


def shape_of(events: list[sse.Event]) -> list[str]:
    """Event names, pings dropped (they may come anywhere) and runs of deltas counted once."""
    names = [name for name, _ in events if name != "ping"]
    return [
        name
        for i, name in enumerate(names)
        if i == 0 or name != names[i - 1] or "delta" not in name
    ]


def streamed_turn(events: list[sse.Event]) -> tuple[Turn, dict[str, Any]]:
    """The turn a recorded stream amounts to, and its message_delta."""
    blocks: dict[int, dict[str, Any]] = {}
    partial: dict[int, str] = {}
    delta: dict[str, Any] = {}
    for name, data in events:
        if name == "content_block_start":
            blocks[data["index"]] = dict(data["content_block"])
        elif name == "content_block_delta" and data["delta"]["type"] == "text_delta":
            blocks[data["index"]]["text"] += data["delta"]["text"]
        elif name == "content_block_delta":
            partial[data["index"]] = partial.get(data["index"], "") + data["delta"]["partial_json"]
        elif name == "message_delta":
            delta = data
    for index, text in partial.items():
        blocks[index]["input"] = json.loads(text) if text else {}
    content = [
        {"type": "text", "text": b["text"]}
        if b["type"] == "text"
        else {"type": "tool_use", "name": b["name"], "input": b["input"]}
        for _, b in sorted(blocks.items())
    ]
    return Turn(content=tuple(content), stop_reason=delta["delta"]["stop_reason"]), delta


@pytest.mark.parametrize("recorded_text", stream_fixtures())
def test_streams_follow_the_recorded_event_order(corpus, serve, recorded_text):
    recorded = list(sse.parse(recorded_text))
    turn, recorded_delta = streamed_turn(recorded)
    url = serve(AnthropicEmulator([turn]))

    with httpx.stream(
        "POST",
        f"{url}/v1/messages",
        headers=API_HEADERS,
        json={
            "model": MODEL,
            "max_tokens": 64,
            "stream": True,
            "messages": [{"role": "user", "content": "Hi"}],
        },
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        ours = list(sse.parse(response.read().decode()))

    assert shape_of(ours) == shape_of(recorded)
    if any(name == "ping" for name, _ in recorded):
        assert [name for name, _ in ours].index("ping") == [name for name, _ in recorded].index(
            "ping"
        )
    (our_start,) = [data for name, data in ours if name == "message_start"]
    (their_start,) = [data for name, data in recorded if name == "message_start"]
    same_shape(our_start, their_start)
    (our_delta,) = [data for name, data in ours if name == "message_delta"]
    same_shape(our_delta["usage"], recorded_delta["usage"], "message_delta.usage")
    assert our_delta["delta"]["stop_reason"] == recorded_delta["delta"]["stop_reason"]
