"""Request validation as the Messages API does it: the first problem found, worded like the API."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

MAX_CACHE_BREAKPOINTS = 4
ROLES = ("user", "assistant")


class InvalidRequest(ValueError):
    """A request the API would answer with 400 `invalid_request_error`; str() is the message."""


def validate_messages_request(body: Any) -> None:
    """Raise `InvalidRequest` for the first problem in a `POST /v1/messages` body."""
    if not isinstance(body, Mapping):
        raise InvalidRequest("The request body is not a JSON object.")
    for name in ("model", "max_tokens", "messages"):
        if name not in body:
            raise InvalidRequest(f"{name}: Field required")
    if not isinstance(body["model"], str) or not body["model"]:
        raise InvalidRequest("model: Input should be a non-empty string")
    max_tokens = body["max_tokens"]
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool):
        raise InvalidRequest("max_tokens: Input should be a valid integer")
    if max_tokens < 1:
        raise InvalidRequest("max_tokens: Input should be greater than or equal to 1")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise InvalidRequest("stream: Input should be a valid boolean")
    temperature = body.get("temperature")
    if temperature is not None and not (
        isinstance(temperature, int | float) and 0 <= temperature <= 1
    ):
        raise InvalidRequest("temperature: Input should be a number between 0 and 1")
    _check_system(body.get("system"))
    _check_tools(body.get("tools"), body.get("tool_choice"))
    _check_messages(body["messages"])
    breakpoints = count_cache_breakpoints(body)
    if breakpoints > MAX_CACHE_BREAKPOINTS:
        raise InvalidRequest(
            f"A maximum of {MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. "
            f"Found {breakpoints}."
        )


def _check_system(system: Any) -> None:
    if system is None or isinstance(system, str):
        return
    if not isinstance(system, list):
        raise InvalidRequest("system: Input should be a valid string or a list of text blocks")
    for i, block in enumerate(system):
        if not isinstance(block, Mapping) or block.get("type") != "text":
            raise InvalidRequest(f"system.{i}.type: Input should be 'text'")
        _check_text(block, f"system.{i}")


def _check_tools(tools: Any, tool_choice: Any) -> None:
    if tools is not None and not isinstance(tools, list):
        raise InvalidRequest("tools: Input should be a valid list")
    names = set()
    for i, tool in enumerate(tools or []):
        if not isinstance(tool, Mapping) or not isinstance(tool.get("name"), str):
            raise InvalidRequest(f"tools.{i}.name: Field required")
        names.add(tool["name"])
        # Server tools (web search, code execution...) are declared by a dated `type`.
        if tool.get("type", "custom") == "custom" and not isinstance(
            tool.get("input_schema"), Mapping
        ):
            raise InvalidRequest(f"tools.{i}.custom.input_schema: Field required")
    if tool_choice is None:
        return
    kind = tool_choice.get("type") if isinstance(tool_choice, Mapping) else None
    if kind not in ("auto", "any", "none", "tool"):
        raise InvalidRequest("tool_choice: Input tag does not match 'auto', 'any', 'tool', 'none'")
    if kind == "tool" and tool_choice.get("name") not in names:
        raise InvalidRequest(f"tool_choice: Tool '{tool_choice.get('name')}' not found in tools")


def merged_turns(messages: list[Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Consecutive same-role messages merged into one turn of blocks, as the API does."""
    turns: list[tuple[str, list[dict[str, Any]]]] = []
    for message in messages:
        blocks = as_blocks(message["content"])
        if turns and turns[-1][0] == message["role"]:
            turns[-1][1].extend(blocks)
        else:
            turns.append((message["role"], list(blocks)))
    return turns


def as_blocks(content: Any) -> list[dict[str, Any]]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else list(content)


def _check_messages(messages: Any) -> None:
    if not isinstance(messages, list):
        raise InvalidRequest("messages: Input should be a valid list")
    if not messages:
        raise InvalidRequest("messages: at least one message is required")
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise InvalidRequest(f"messages.{i}: Input should be a valid dictionary")
        if message.get("role") not in ROLES:
            raise InvalidRequest(f"messages.{i}.role: Input should be 'user' or 'assistant'")
        content = message.get("content")
        if not isinstance(content, str | list):
            raise InvalidRequest(f"messages.{i}.content: Input should be a valid string or list")
        final_assistant = i == len(messages) - 1 and message["role"] == "assistant"
        if not content and not final_assistant:
            raise InvalidRequest(
                f"messages.{i}: all messages must have non-empty content except for the "
                "optional final assistant message"
            )
        for j, block in enumerate(as_blocks(content)):
            _check_block(block, message["role"], f"messages.{i}.content.{j}")
    if messages[0]["role"] != "user":
        raise InvalidRequest('messages: first message must use the "user" role')
    _check_tool_pairs(merged_turns(messages))


def _check_block(block: Any, role: str, where: str) -> None:
    if not isinstance(block, Mapping) or not isinstance(block.get("type"), str):
        raise InvalidRequest(f"{where}.type: Field required")
    kind = block["type"]
    if kind == "text":
        _check_text(block, where)
    elif kind == "tool_use":
        if role != "assistant":
            raise InvalidRequest(f"{where}: `tool_use` blocks can only be in `assistant` messages")
        for name in ("id", "name", "input"):
            if name not in block:
                raise InvalidRequest(f"{where}.tool_use.{name}: Field required")
    elif kind == "tool_result":
        if role != "user":
            raise InvalidRequest(f"{where}: `tool_result` blocks can only be in `user` messages")
        if not isinstance(block.get("tool_use_id"), str):
            raise InvalidRequest(f"{where}.tool_result.tool_use_id: Field required")


def _check_text(block: Mapping[str, Any], where: str) -> None:
    if not isinstance(block.get("text"), str):
        raise InvalidRequest(f"{where}.text: Field required")
    if not block["text"]:
        raise InvalidRequest(f"{where}: text content blocks must be non-empty")


def _check_tool_pairs(turns: list[tuple[str, list[dict[str, Any]]]]) -> None:
    """Every tool_use answered by a leading tool_result in the next turn, and nothing else."""
    for index, (role, blocks) in enumerate(turns):
        if role != "user":
            continue
        previous = turns[index - 1][1] if index else []
        asked = [b["id"] for b in previous if b.get("type") == "tool_use"]
        for j, block in enumerate(blocks):
            if block.get("type") == "tool_result" and block["tool_use_id"] not in asked:
                raise InvalidRequest(
                    f"messages.{index}.content.{j}: unexpected `tool_use_id` found in "
                    f"`tool_result` blocks: {block['tool_use_id']}. Each `tool_result` block "
                    "must have a corresponding `tool_use` block in the previous message."
                )
    for index, (role, blocks) in enumerate(turns):
        asked = [b["id"] for b in blocks if b.get("type") == "tool_use"]
        if role != "assistant" or not asked or index == len(turns) - 1:
            continue
        answered = set()
        for block in turns[index + 1][1]:
            if block.get("type") != "tool_result":
                break  # results must come first in the next turn, before any other content
            answered.add(block["tool_use_id"])
        missing = [tool_id for tool_id in asked if tool_id not in answered]
        if missing:
            raise InvalidRequest(
                f"messages.{index + 1}: `tool_use` ids were found without `tool_result` blocks "
                f"immediately after: {', '.join(missing)}. Each `tool_use` block must have a "
                "corresponding `tool_result` block in the next message."
            )


def cache_controlled_blocks(body: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every tool, system block and message block that carries `cache_control`."""
    for tool in body.get("tools") or []:
        if isinstance(tool, Mapping) and tool.get("cache_control"):
            yield tool
    system = body.get("system")
    for block in system if isinstance(system, list) else []:
        if isinstance(block, Mapping) and block.get("cache_control"):
            yield block
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, Mapping) else None
        for block in content if isinstance(content, list) else []:
            if isinstance(block, Mapping) and block.get("cache_control"):
                yield block


def count_cache_breakpoints(body: Mapping[str, Any]) -> int:
    return sum(1 for _ in cache_controlled_blocks(body))
