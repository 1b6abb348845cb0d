"""The assistant message the API sends back for one scripted turn: ids, content and usage."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from emulators.anthropic.script import Turn
from emulators.anthropic.usage import (
    InputUsage,
    PromptCache,
    output_tokens,
    prompt_segments,
    usage_body,
)

NewId = Callable[[str], str]


def assistant_message(
    body: Mapping[str, Any], turn: Turn, *, cache: PromptCache, new_id: NewId
) -> dict[str, Any]:
    """The message answering request `body` with `turn`; `cache` accounts its input tokens."""
    content = [_reply_block(block, new_id) for block in turn.content]
    _link_server_results(content)
    stop_reason = turn.final_stop_reason
    input_usage: InputUsage = cache.account(body["model"], prompt_segments(body))
    message: dict[str, Any] = {
        "model": body["model"],
        "id": new_id("msg_"),
        "type": "message",
        "role": "assistant",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": turn.stop_sequence,
        "usage": usage_body(input_usage, output_tokens(content)),
    }
    if stop_reason == "refusal":
        message["stop_details"] = {"type": "refusal", "category": None, "explanation": None}
    return message


def _reply_block(block: Mapping[str, Any], new_id: NewId) -> dict[str, Any]:
    if block["type"] == "text":
        return {"type": "text", "text": block["text"]}
    if block["type"] == "server_tool_use":
        return {
            "type": "server_tool_use",
            "id": block.get("id") or new_id("srvtoolu_"),
            "name": block["name"],
            "input": block["input"],
        }
    if block["type"] == "web_search_tool_result":
        return {"type": "web_search_tool_result", **dict(block)}
    return {
        "type": "tool_use",
        "id": block.get("id") or new_id("toolu_"),
        "name": block["name"],
        "input": block["input"],
        "caller": {"type": "direct"},
    }


def _link_server_results(content: list[dict[str, Any]]) -> None:
    """A server tool's result answers the server_tool_use before it, as the API sends them."""
    last_use = None
    for block in content:
        if block["type"] == "server_tool_use":
            last_use = block["id"]
        elif block["type"] == "web_search_tool_result" and not block.get("tool_use_id"):
            block["tool_use_id"] = last_use
