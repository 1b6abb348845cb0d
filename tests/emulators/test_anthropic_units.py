"""The Anthropic emulator's pure parts: script, validation, token and cache accounting, SSE."""

from __future__ import annotations

import json

import pytest

from emulators.anthropic import sse
from emulators.anthropic.script import Match, Script, ScriptError, Turn, load_script
from emulators.anthropic.usage import (
    InputUsage,
    PromptCache,
    estimate_tokens,
    output_tokens,
    prompt_segments,
)
from emulators.anthropic.validation import InvalidRequest, validate_messages_request

# -- script -------------------------------------------------------------------------------


def test_turn_stop_reason_defaults_to_tool_use_when_a_tool_is_called():
    assert Turn.text("hi").final_stop_reason == "end_turn"
    assert Turn.tool_use("read", {"path": "a"}).final_stop_reason == "tool_use"
    assert Turn.text("cut", stop_reason="max_tokens").final_stop_reason == "max_tokens"


def test_script_picks_the_first_unused_turn_that_matches():
    script = Script(
        [
            {"text": "plan", "match": {"system": "planner"}},
            {"text": "code", "match": {"system": "coder", "last_user": "issue 7"}},
            {"text": "anyone"},
        ]
    )
    coder = {
        "system": "You are the coder.",
        "messages": [{"role": "user", "content": "fix issue 7"}],
    }
    planner = {"system": [{"type": "text", "text": "You are the planner."}], "messages": []}

    assert script.pick(coder) == 1
    script.use(1)
    assert script.pick(coder) == 2
    assert script.pick(planner) == 0
    script.use(0)
    script.use(2)
    assert script.pick(planner) is None
    assert script.remaining == 0


def test_match_reads_tool_results_in_the_last_user_turn():
    body = {
        "messages": [
            {"role": "user", "content": "start"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "x"}]},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t", "content": "tests pass"}],
            },
        ]
    }
    assert Match(last_user="tests pass").accepts(body)
    assert not Match(last_user="start").accepts(body)


def test_scripts_load_from_toml_and_json(tmp_path):
    toml = tmp_path / "script.toml"
    toml.write_text(
        """
[[turns]]
match = { system = "planner" }
[[turns.content]]
type = "text"
text = "I will read the README."
[[turns.content]]
type = "tool_use"
name = "read_file"
input = { path = "README.md" }

[[turns]]
text = "Done."
stop_reason = "end_turn"

[fallback]
text = "nothing left"
""",
        encoding="utf-8",
    )
    script = load_script(toml)
    assert [turn.final_stop_reason for turn in script.turns] == ["tool_use", "end_turn"]
    assert script.turns[0].content[1] == {
        "type": "tool_use",
        "name": "read_file",
        "input": {"path": "README.md"},
    }
    assert script.turns[0].match == Match(system="planner")
    assert script.fallback == Turn.text("nothing left")

    as_json = tmp_path / "script.json"
    as_json.write_text(json.dumps([{"text": "hi"}, {"text": "no", "stop_reason": "refusal"}]))
    assert load_script(as_json).turns[1].final_stop_reason == "refusal"


@pytest.mark.parametrize(
    ("turn", "problem"),
    [
        ({"content": []}, "needs `content` blocks or `text`"),
        ({"text": "x", "stop_reason": "done"}, "stop_reason 'done'"),
        ({"content": [{"type": "image"}]}, "block type 'image' is not supported"),
        ({"content": [{"type": "tool_use", "input": {}}]}, "needs a `name`"),
        ({"text": "x", "match": {"user": "y"}}, "`match` takes only"),
        ({"text": "x", "reply": "y"}, "unknown keys ['reply']"),
    ],
)
def test_bad_scripts_say_which_turn_is_wrong(turn, problem):
    with pytest.raises(ScriptError, match="turn 1") as error:
        Script([{"text": "fine"}, turn])
    assert problem in str(error.value)


# -- validation ---------------------------------------------------------------------------


def request(**changes):
    body = {"model": "claude-x", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


TOOL_USE = {"type": "tool_use", "id": "toolu_1", "name": "read", "input": {}}
TOOL_RESULT = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}


def test_a_well_formed_tool_loop_is_valid():
    validate_messages_request(
        request(
            messages=[
                {"role": "user", "content": "read it"},
                {"role": "assistant", "content": [{"type": "text", "text": "ok"}, TOOL_USE]},
                {"role": "user", "content": [TOOL_RESULT, {"type": "text", "text": "go on"}]},
            ]
        )
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (request(model=None), "model: Field required"),
        (request(max_tokens=None), "max_tokens: Field required"),
        (request(messages=None), "messages: Field required"),
        (request(max_tokens=0), "max_tokens: Input should be greater than or equal to 1"),
        (request(messages=[]), "messages: at least one message is required"),
        (
            request(messages=[{"role": "assistant", "content": "hi"}]),
            'messages: first message must use the "user" role',
        ),
        (
            request(
                messages=[
                    {"role": "user", "content": "go"},
                    {"role": "assistant", "content": [TOOL_USE]},
                    {"role": "user", "content": "what?"},
                ]
            ),
            "messages.2: `tool_use` ids were found without `tool_result` blocks immediately "
            "after: toolu_1.",
        ),
        (
            request(
                messages=[
                    {"role": "user", "content": "go"},
                    {"role": "assistant", "content": [TOOL_USE]},
                    {"role": "user", "content": [{"type": "text", "text": "wait"}, TOOL_RESULT]},
                ]
            ),
            "`tool_use` ids were found without `tool_result` blocks immediately after",
        ),
        (
            request(
                messages=[
                    {"role": "user", "content": "go"},
                    {"role": "user", "content": [TOOL_RESULT]},
                ]
            ),
            "messages.0.content.1: unexpected `tool_use_id` found in `tool_result` blocks: "
            "toolu_1.",
        ),
        (
            request(
                system=[{"type": "text", "text": "s", "cache_control": {"type": "ephemeral"}}] * 5
            ),
            "A maximum of 4 blocks with cache_control may be provided. Found 5.",
        ),
        (request(messages=[{"role": "bot", "content": "hi"}]), "messages.0.role"),
        (request(tool_choice={"type": "tool", "name": "nope"}), "Tool 'nope' not found"),
    ],
)
def test_invalid_requests_are_refused_with_the_api_wording(body, message):
    with pytest.raises(InvalidRequest) as error:
        validate_messages_request(body)
    assert message in str(error.value)


# -- tokens and prompt caching ------------------------------------------------------------


def test_tokens_are_one_per_four_characters_rounded_up():
    assert [estimate_tokens("x" * n) for n in (0, 1, 4, 5, 400)] == [0, 1, 1, 2, 100]
    assert output_tokens([{"type": "text", "text": "x" * 40}]) == 10
    assert output_tokens([{"type": "text", "text": ""}]) == 1


def cached_body(system_chars: int, question: str, ttl: str | None = None):
    control = {"type": "ephemeral", **({"ttl": ttl} if ttl else {})}
    return request(
        system=[{"type": "text", "text": "s" * system_chars, "cache_control": control}],
        messages=[{"role": "user", "content": question}],
    )


def test_a_cached_prefix_is_written_once_then_read():
    cache = PromptCache(min_tokens=100)
    first = cache.account("m", prompt_segments(cached_body(800, "q1" * 10)))
    second = cache.account("m", prompt_segments(cached_body(800, "q2" * 10)))
    other_model = cache.account("n", prompt_segments(cached_body(800, "q2" * 10)))

    assert first == InputUsage(input_tokens=5, ephemeral_5m_input_tokens=200)
    assert second == InputUsage(input_tokens=5, cache_read_input_tokens=200)
    assert second.total == first.total == 205
    assert other_model.cache_read_input_tokens == 0


def test_short_prefixes_are_not_cached_and_entries_expire():
    now = [0.0]
    cache = PromptCache(min_tokens=1024, clock=lambda: now[0])
    body = prompt_segments(cached_body(800, "q", ttl="1h"))
    short = cache.account("m", body)
    assert short == InputUsage(input_tokens=201)

    cache.min_tokens = 100
    assert cache.account("m", body).ephemeral_1h_input_tokens == 200
    now[0] = 3599.0
    assert cache.account("m", body).cache_read_input_tokens == 200
    now[0] += 3601.0  # a hit refreshed the hour; now it has run out
    assert cache.account("m", body).cache_read_input_tokens == 0


def test_a_later_breakpoint_reads_the_earlier_prefix_and_writes_the_rest():
    cache = PromptCache(min_tokens=5)
    tools = [
        {"name": "t", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}}
    ]
    first = request(tools=tools, system="s" * 400)
    grown = request(
        tools=tools,
        system=[{"type": "text", "text": "s" * 400, "cache_control": {"type": "ephemeral"}}],
    )
    tool_tokens = prompt_segments(first)[0].tokens
    assert tool_tokens >= 5
    cache.account("m", prompt_segments(first))  # caches the tools
    usage = cache.account("m", prompt_segments(grown))
    assert usage.cache_read_input_tokens == tool_tokens
    assert usage.ephemeral_5m_input_tokens == 100
    assert usage.total == sum(segment.tokens for segment in prompt_segments(grown))


# -- server-sent events -------------------------------------------------------------------


def test_text_and_json_pieces_concatenate_back():
    text = "The quick brown fox jumps over the lazy dog twice."
    assert "".join(sse.text_chunks(text)) == text
    assert len(sse.text_chunks(text)) > 2
    value = {"path": "src/app.py", "lines": [1, 2, 3], "note": "naïve"}
    fragments = sse.json_fragments(value)
    assert fragments[0] == "" and len(fragments) > 3
    assert json.loads("".join(fragments)) == value


def test_events_round_trip_through_the_wire_format():
    message = {
        "model": "m",
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": "Hello there!"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 3,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": 3,
        },
    }
    events = sse.message_events(message)
    wire = b"".join(sse.encode(event) for event in events).decode()
    assert list(sse.parse(wire)) == events
    assert [name for name, _ in events] == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    broken = sse.broken_events(
        events, {"type": "overloaded_error", "message": "Overloaded"}, after=2
    )
    assert [name for name, _ in broken] == ["message_start", "content_block_start", "error"]
