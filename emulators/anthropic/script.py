"""The emulator's script: canned assistant turns, how they are loaded and which one answers."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STOP_REASONS = frozenset(
    {"end_turn", "tool_use", "max_tokens", "stop_sequence", "refusal", "pause_turn"}
)


class ScriptError(ValueError):
    """A script that cannot be loaded: says which turn and what is wrong."""


@dataclass(frozen=True)
class Match:
    """Substrings a request must contain for a turn to answer it (all given ones must match)."""

    last_user: str | None = None
    system: str | None = None
    # The first user message (an agent's task prompt) and the number of assistant messages
    # already in the conversation: together they name one turn of one agent's loop.
    first_user: str | None = None
    turn: int | None = None

    def accepts(self, body: Mapping[str, Any]) -> bool:
        if self.last_user is not None and self.last_user not in last_user_text(body):
            return False
        if self.first_user is not None and self.first_user not in first_user_text(body):
            return False
        if self.turn is not None and self.turn != assistant_turns(body):
            return False
        return self.system is None or self.system in system_text(body)


@dataclass(frozen=True)
class Turn:
    """One assistant reply: API-shaped `text` / `tool_use` blocks (tool ids are given on reply)."""

    content: tuple[dict[str, Any], ...]
    stop_reason: str | None = None
    match: Match = field(default_factory=Match)
    stop_sequence: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.match, Mapping):  # plain data, e.g. Turn.text("hi", match={...})
            object.__setattr__(self, "match", Match(**self.match))

    @classmethod
    def text(cls, text: str, **options: Any) -> Turn:
        return cls(content=({"type": "text", "text": text},), **options)

    @classmethod
    def tool_use(
        cls, name: str, input: dict[str, Any], *, text: str | None = None, **options: Any
    ) -> Turn:
        blocks = [{"type": "text", "text": text}] if text else []
        blocks.append({"type": "tool_use", "name": name, "input": input})
        return cls(content=tuple(blocks), **options)

    @property
    def final_stop_reason(self) -> str:
        if self.stop_reason is not None:
            return self.stop_reason
        has_tool_use = any(block["type"] == "tool_use" for block in self.content)
        return "tool_use" if has_tool_use else "end_turn"


class Script:
    """Ordered turns; each request takes the first unused turn whose `match` accepts it.

    Turns may be `Turn`s or plain data (see `parse_turn`). `fallback`, when set, answers any
    request no turn is left for; otherwise the script is exhausted and the emulator answers 500.
    With `reuse`, turns are never used up: the same request always gets the same turn, so a
    client that crashes and asks again is answered as before (resumable-run tests).
    """

    def __init__(
        self,
        turns: Iterable[Turn | Mapping[str, Any]] = (),
        *,
        fallback: Turn | Mapping[str, Any] | None = None,
        reuse: bool = False,
    ) -> None:
        self.turns: list[Turn] = []
        self.used: list[bool] = []
        self.reuse = reuse
        self.fallback = None if fallback is None else _as_turn(fallback, -1)
        self.add(*turns)

    def add(self, *turns: Turn | Mapping[str, Any]) -> None:
        for turn in turns:
            self.turns.append(_as_turn(turn, len(self.turns)))
            self.used.append(False)

    def pick(self, body: Mapping[str, Any]) -> int | None:
        """The index of the first unused turn that answers `body`, or None."""
        for index, turn in enumerate(self.turns):
            if (self.reuse or not self.used[index]) and turn.match.accepts(body):
                return index
        return None

    def use(self, index: int) -> Turn:
        self.used[index] = True
        return self.turns[index]

    @property
    def remaining(self) -> int:
        return self.used.count(False)


def last_user_text(body: Mapping[str, Any]) -> str:
    """The text of the last user message (text blocks and tool_result contents)."""
    for message in reversed(body.get("messages") or []):
        if isinstance(message, Mapping) and message.get("role") == "user":
            return content_text(message.get("content"))
    return ""


def first_user_text(body: Mapping[str, Any]) -> str:
    for message in body.get("messages") or []:
        if isinstance(message, Mapping) and message.get("role") == "user":
            return content_text(message.get("content"))
    return ""


def assistant_turns(body: Mapping[str, Any]) -> int:
    messages = body.get("messages") or []
    return sum(1 for m in messages if isinstance(m, Mapping) and m.get("role") == "assistant")


def system_text(body: Mapping[str, Any]) -> str:
    return content_text(body.get("system"))


def content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, Mapping):
            continue
        if isinstance(block.get("text"), str):
            parts.append(block["text"])
        elif block.get("type") == "tool_result":
            parts.append(content_text(block.get("content")))
    return "\n".join(parts)


def parse_turn(data: Mapping[str, Any], index: int) -> Turn:
    """A turn from plain data: `content` blocks (or a `text` shorthand), `stop_reason`, `match`."""
    where = f"turn {index}"
    if not isinstance(data, Mapping):
        raise ScriptError(f"{where}: expected a table/object, got {type(data).__name__}")
    unknown = set(data) - {"content", "text", "stop_reason", "stop_sequence", "match"}
    if unknown:
        raise ScriptError(f"{where}: unknown keys {sorted(unknown)}")
    blocks = list(data.get("content") or [])
    if "text" in data:
        blocks.insert(0, {"type": "text", "text": data["text"]})
    if not blocks:
        raise ScriptError(f"{where}: needs `content` blocks or `text`")
    stop_reason = data.get("stop_reason")
    if stop_reason is not None and stop_reason not in STOP_REASONS:
        raise ScriptError(
            f"{where}: stop_reason {stop_reason!r} is not one of {sorted(STOP_REASONS)}"
        )
    match = data.get("match") or {}
    if not isinstance(match, Mapping) or set(match) - set(Match.__dataclass_fields__):
        raise ScriptError(f"{where}: `match` takes only {', '.join(Match.__dataclass_fields__)}")
    return Turn(
        content=tuple(_check_block(block, f"{where}, block {i}") for i, block in enumerate(blocks)),
        stop_reason=stop_reason,
        match=Match(**match),
        stop_sequence=data.get("stop_sequence"),
    )


def _as_turn(turn: Turn | Mapping[str, Any], index: int) -> Turn:
    return turn if isinstance(turn, Turn) else parse_turn(turn, index)


def _check_block(block: Any, where: str) -> dict[str, Any]:
    if not isinstance(block, Mapping):
        raise ScriptError(f"{where}: expected a table/object")
    kind = block.get("type")
    if kind == "text":
        if not isinstance(block.get("text"), str):
            raise ScriptError(f"{where}: a text block needs a string `text`")
        return {"type": "text", "text": block["text"]}
    if kind == "tool_use":
        if not isinstance(block.get("name"), str) or not isinstance(
            block.get("input", {}), Mapping
        ):
            raise ScriptError(f"{where}: a tool_use block needs a `name` and an object `input`")
        checked = {"type": "tool_use", "name": block["name"], "input": dict(block.get("input", {}))}
        if "id" in block:
            checked["id"] = str(block["id"])
        return checked
    if kind == "server_tool_use":  # the API's own tools, e.g. web search
        if not isinstance(block.get("name"), str):
            raise ScriptError(f"{where}: a server_tool_use block needs a `name`")
        checked = {"type": kind, "name": block["name"], "input": dict(block.get("input", {}))}
        if "id" in block:
            checked["id"] = str(block["id"])
        return checked
    if kind == "web_search_tool_result":
        if not isinstance(block.get("content"), list | Mapping):
            raise ScriptError(f"{where}: a web_search_tool_result needs `content` results")
        return {
            key: value for key, value in block.items() if key in ("type", "content", "tool_use_id")
        }
    raise ScriptError(
        f"{where}: block type {kind!r} is not supported "
        "(text, tool_use, server_tool_use, web_search_tool_result)"
    )


def script_from_data(data: Mapping[str, Any] | Iterable[Any]) -> Script:
    """A script from `{"turns": [...], "fallback": {...}}` or a bare list of turns."""
    if isinstance(data, Mapping):
        unknown = set(data) - {"turns", "fallback"}
        if unknown:
            raise ScriptError(f"script: unknown keys {sorted(unknown)} (expected turns, fallback)")
        fallback = data.get("fallback")
        turns = [parse_turn(turn, i) for i, turn in enumerate(data.get("turns") or [])]
        return Script(turns, fallback=parse_turn(fallback, -1) if fallback else None)
    return Script([parse_turn(turn, i) for i, turn in enumerate(data)])


def load_script(path: str | Path) -> Script:
    """A script from a `.json` or `.toml` file (TOML: `[[turns]]` tables)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".toml":
        return script_from_data(tomllib.loads(text))
    if path.suffix == ".json":
        return script_from_data(json.loads(text))
    raise ScriptError(f"{path}: a script is a .json or .toml file")
