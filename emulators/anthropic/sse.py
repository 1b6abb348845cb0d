"""A finished message as the API's stream of Server-Sent Events, in the recorded order."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

Event = tuple[str, dict[str, Any]]

TEXT_CHUNK_WORDS = 3
JSON_CHUNK_CHARS = 12
PING: Event = ("ping", {"type": "ping"})


def text_chunks(text: str, words: int = TEXT_CHUNK_WORDS) -> list[str]:
    """`text` in pieces of a few words (spaces kept), which concatenate back to `text`."""
    pieces = text.split(" ")
    chunks = [
        " ".join(pieces[i : i + words]) + (" " if i + words < len(pieces) else "")
        for i in range(0, len(pieces), words)
    ]
    return [chunk for chunk in chunks if chunk] or [text]


def json_fragments(value: Any, size: int = JSON_CHUNK_CHARS) -> list[str]:
    """A tool input as `partial_json` fragments: an empty one first, as the API sends."""
    text = json.dumps(value, ensure_ascii=False) if value else ""
    return [""] + [text[i : i + size] for i in range(0, len(text), size)]


def _block_start(block: Mapping[str, Any]) -> dict[str, Any]:
    if block["type"] == "text":
        return {"type": "text", "text": ""}
    return {**block, "input": {}}


def _block_deltas(block: Mapping[str, Any]) -> list[dict[str, Any]]:
    if block["type"] == "text":
        if not block["text"]:
            return []  # the API streams an empty text block (e.g. a refusal) with no delta
        return [{"type": "text_delta", "text": chunk} for chunk in text_chunks(block["text"])]
    return [
        {"type": "input_json_delta", "partial_json": fragment}
        for fragment in json_fragments(block["input"])
    ]


def message_events(message: Mapping[str, Any], *, ping: bool = True) -> list[Event]:
    """The events that stream `message` (a complete non-streaming response body).

    `message_start` carries the message with empty content and the input usage; one `ping`
    follows the first `content_block_start` (where the API sends it); `message_delta` carries
    the stop reason and the final usage.
    """
    usage = message["usage"]
    start = {**message, "content": [], "stop_reason": None, "stop_sequence": None}
    start.pop("stop_details", None)
    start["usage"] = {**usage, "output_tokens": 1}
    events: list[Event] = [("message_start", {"type": "message_start", "message": start})]
    for index, block in enumerate(message["content"]):
        events.append(
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": _block_start(block),
                },
            )
        )
        if ping and index == 0:
            events.append(PING)
        for delta in _block_deltas(block):
            events.append(
                (
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": delta},
                )
            )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    delta: dict[str, Any] = {
        "stop_reason": message["stop_reason"],
        "stop_sequence": message.get("stop_sequence"),
    }
    if message.get("stop_details") is not None:
        delta["stop_details"] = message["stop_details"]
    final_usage = {
        key: usage[key]
        for key in (
            "input_tokens",
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
            "output_tokens",
        )
    }
    events.append(
        ("message_delta", {"type": "message_delta", "delta": delta, "usage": final_usage})
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def broken_events(events: list[Event], error: Mapping[str, Any], *, after: int) -> list[Event]:
    """The first `after` events, then an `error` event that ends the stream."""
    return [*events[:after], ("error", {"type": "error", "error": dict(error)})]


def encode(event: Event) -> bytes:
    name, data = event
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def parse(text: str) -> Iterator[Event]:
    """Events back from SSE text (`event:` / `data:` lines); for tests and transcripts."""
    name, data = None, []
    for line in text.splitlines() + [""]:
        if line.startswith("event:"):
            name = line[len("event:") :].strip()
        elif line.startswith("data:"):
            data.append(line[len("data:") :].strip())
        elif not line and name is not None:
            yield name, json.loads("\n".join(data)) if data else {}
            name, data = None, []
