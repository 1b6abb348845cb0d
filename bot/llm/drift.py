"""What changed between a recorded model request and the one the crew would send now.

A replay answers every call from the transcript by the request's hash; when the crew's
prompts, tools or the repository's context changed since the run was recorded, the hashes
differ and there is no answer. This names the parts that differ, in one line, so the replay
can say why it cannot go on ("prompts changed since this run was recorded: …").
"""

from __future__ import annotations

import json
from typing import Any

PROMPTS_CHANGED = "prompts changed since this run was recorded"
SNIPPET = 60
MAX_CHANGES = 4


def carries_repository(request: dict[str, Any]) -> bool:
    """Whether the request has the repository block (system[1] of three system blocks)."""
    return len(request.get("system") or []) >= 3


def describe_drift(recorded: dict[str, Any], current: dict[str, Any]) -> str:
    """The differences, `; `-separated; '' when the two ask the same (cache marks aside)."""
    changes = [
        f"{name} was {recorded.get(name)!r}, now {current.get(name)!r}"
        for name in ("model", "max_tokens")
        if recorded.get(name) != current.get(name)
    ]
    changes += _system(recorded.get("system") or [], current.get("system") or [])
    changes += _tools(recorded.get("tools") or [], current.get("tools") or [])
    changes += _messages(recorded.get("messages") or [], current.get("messages") or [])
    if not changes and _json(recorded) != _json(current):
        changes.append("the cache breakpoints moved")
    more = len(changes) - MAX_CHANGES
    return "; ".join(changes[:MAX_CHANGES]) + (f"; and {more} more" if more > 0 else "")


def _system(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[str]:
    old_named, new_named = _system_names(old), _system_names(new)
    changes = [f"{name} is new" for name in new_named if name not in old_named]
    changes += [f"{name} is gone" for name in old_named if name not in new_named]
    for name in new_named:
        if name in old_named:
            changes += _text_change(name, old_named[name], new_named[name])
    return changes


def _system_names(blocks: list[dict[str, Any]]) -> dict[str, str]:
    texts = [str(block.get("text", "")) if isinstance(block, dict) else "" for block in blocks]
    if len(texts) == 3:
        names = ["the system prompt", "the repository map (system[1])", "the step's context"]
    elif len(texts) == 2:
        names = ["the system prompt", "the step's context"]
    else:
        names = [f"system[{index}]" for index in range(len(texts))]
    return dict(zip(names, texts, strict=True))


def _tools(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[str]:
    before = {str(tool.get("name")): _without_cache(tool) for tool in old}
    after = {str(tool.get("name")): _without_cache(tool) for tool in new}
    changes = []
    added = [name for name in after if name not in before]
    gone = [name for name in before if name not in after]
    if added:
        changes.append(f"tools added: {', '.join(added)}")
    if gone:
        changes.append(f"tools removed: {', '.join(gone)}")
    changed = [name for name in after if name in before and before[name] != after[name]]
    if changed:
        changes.append(f"tools changed: {', '.join(changed)}")
    if not changes and list(before) != list(after):
        changes.append("the tools' order changed")
    return changes


def _messages(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[str]:
    for index, (was, now) in enumerate(zip(old, new, strict=False)):
        if _json(_without_cache(was)) != _json(_without_cache(now)):
            name = "the step's prompt" if index == 0 else f"message {index} ({now.get('role')})"
            return _text_change(name, _message_text(was), _message_text(now)) or [f"{name} changed"]
    if len(old) != len(new):
        return [f"the conversation has {len(new)} messages, the recording {len(old)}"]
    return []


def _text_change(name: str, old: str, new: str) -> list[str]:
    """`the system prompt differs at line 4: "…" → "…"`, or nothing if the texts are equal."""
    if old == new:
        return []
    old_lines, new_lines = old.splitlines(), new.splitlines()
    line = next(
        (n for n, (a, b) in enumerate(zip(old_lines, new_lines, strict=False)) if a != b),
        min(len(old_lines), len(new_lines)),
    )
    was = old_lines[line] if line < len(old_lines) else ""
    now = new_lines[line] if line < len(new_lines) else ""
    return [f"{name} differs at line {line + 1}: {_snippet(was)} → {_snippet(now)}"]


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return json.dumps(text[:SNIPPET] + ("…" if len(text) > SNIPPET else ""), ensure_ascii=False)


def _message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    return "\n".join(
        str(block.get("text", "")) if block.get("type") == "text" else _json(block)
        for block in content or []
        if isinstance(block, dict)
    )


def _without_cache(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_cache(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [_without_cache(item) for item in value]
    return value


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
