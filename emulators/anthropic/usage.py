"""Token counts: a deterministic estimate (1 token per 4 characters) and prompt-cache accounting.

The prompt is cut into segments in the API's cache order: tools, then system blocks, then
message blocks. A text block counts its text; any other block or tool counts its canonical JSON
(sorted keys, no spaces, `cache_control` left out). Each segment costs ceil(chars / 4) tokens,
so the same prompt always costs the same, and the three input counters add up to the sum.

A breakpoint (`cache_control`) caches the prefix of segments up to and including its block,
keyed by model + every segment's role, position and content. A request reads the longest
cached prefix, then writes every longer breakpoint prefix (split by each breakpoint's ttl).
Prefixes shorter than `min_tokens` are silently not cached, as the API does.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

CHARS_PER_TOKEN = 4
DEFAULT_MIN_CACHEABLE_TOKENS = 1024
TTL_SECONDS = {"5m": 300.0, "1h": 3600.0}


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Segment:
    """One cacheable unit of the prompt; `ttl` is set when a breakpoint ends on it."""

    key: str
    tokens: int
    ttl: str | None = None


@dataclass(frozen=True)
class InputUsage:
    input_tokens: int
    cache_read_input_tokens: int = 0
    ephemeral_5m_input_tokens: int = 0
    ephemeral_1h_input_tokens: int = 0

    @property
    def cache_creation_input_tokens(self) -> int:
        return self.ephemeral_5m_input_tokens + self.ephemeral_1h_input_tokens

    @property
    def total(self) -> int:
        return self.input_tokens + self.cache_read_input_tokens + self.cache_creation_input_tokens


def _segment(where: str, block: Any) -> Segment:
    ttl = None
    if isinstance(block, Mapping):
        control = block.get("cache_control")
        if isinstance(control, Mapping):
            ttl = "1h" if control.get("ttl") == "1h" else "5m"
        block = {k: v for k, v in block.items() if k != "cache_control"}
        if block.get("type") == "text" and isinstance(block.get("text"), str):
            block = block["text"]
    text = block if isinstance(block, str) else canonical(block)
    return Segment(key=f"{where}|{text}", tokens=estimate_tokens(text), ttl=ttl)


def prompt_segments(body: Mapping[str, Any]) -> list[Segment]:
    """The prompt of a Messages request as segments, in cache order."""
    segments = [_segment("tool", tool) for tool in body.get("tools") or []]
    system = body.get("system")
    for block in [system] if isinstance(system, str) else system or []:
        segments.append(_segment("system", block))
    for i, message in enumerate(body.get("messages") or []):
        content = message.get("content")
        for block in [content] if isinstance(content, str) else content or []:
            segments.append(_segment(f"{i}:{message.get('role')}", block))
    return segments


def output_tokens(content: Iterable[Mapping[str, Any]]) -> int:
    """The estimated cost of a reply's blocks; at least 1, as a reply always costs something."""
    total = 0
    for block in content:
        if block.get("type") == "text":
            total += estimate_tokens(block["text"])
        else:
            total += estimate_tokens(block.get("name", "") + canonical(block.get("input", {})))
    return max(total, 1)


class PromptCache:
    """Which prompt prefixes are cached, per model, with the API's 5-minute / 1-hour expiry."""

    def __init__(
        self,
        *,
        min_tokens: int = DEFAULT_MIN_CACHEABLE_TOKENS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.min_tokens = min_tokens
        self.clock = clock
        self._expiry: dict[str, float] = {}

    def clear(self) -> None:
        self._expiry.clear()

    def account(self, model: str, segments: list[Segment]) -> InputUsage:
        """Count a request's input, reading and writing cached prefixes as the API would."""
        now = self.clock()
        digest = hashlib.sha256(model.encode())
        total = 0
        breakpoints: list[tuple[str, int, str]] = []  # (prefix digest, prefix tokens, ttl)
        for segment in segments:
            digest.update(segment.key.encode())
            digest.update(b"\x00")
            total += segment.tokens
            if segment.ttl is not None and total >= self.min_tokens:
                breakpoints.append((digest.hexdigest(), total, segment.ttl))

        read, first_write = 0, 0
        for index in range(len(breakpoints) - 1, -1, -1):
            key, tokens, ttl = breakpoints[index]
            if self._expiry.get(key, -math.inf) > now:
                read, first_write = tokens, index + 1
                self._expiry[key] = now + TTL_SECONDS[ttl]  # a hit refreshes the entry
                break

        written = {"5m": 0, "1h": 0}
        boundary = read
        for key, tokens, ttl in breakpoints[first_write:]:
            written[ttl] += tokens - boundary
            boundary = tokens
            self._expiry[key] = now + TTL_SECONDS[ttl]
        return InputUsage(
            input_tokens=total - boundary,
            cache_read_input_tokens=read,
            ephemeral_5m_input_tokens=written["5m"],
            ephemeral_1h_input_tokens=written["1h"],
        )


def usage_body(usage: InputUsage, output: int, *, service_tier: str = "standard") -> dict[str, Any]:
    """The `usage` object of a response, with the fields the API sent in 2025-2026."""
    return {
        "input_tokens": usage.input_tokens,
        "cache_creation_input_tokens": usage.cache_creation_input_tokens,
        "cache_read_input_tokens": usage.cache_read_input_tokens,
        "cache_creation": {
            "ephemeral_5m_input_tokens": usage.ephemeral_5m_input_tokens,
            "ephemeral_1h_input_tokens": usage.ephemeral_1h_input_tokens,
        },
        "output_tokens": output,
        "service_tier": service_tier,
        "inference_geo": "not_available",
    }
