"""Does a reply in a review thread ask the crew to change the code? (pure)

`/crew fix` always does. Otherwise a conservative phrase rule decides, not a model: the answer
must be the same on every redelivery, cost nothing, and be explainable in one line; a false
"yes" sends the coder off (the dearest thing the crew does) while a missed one costs the writer
a `/crew fix`. Only a request form counts ("please fix", "can you change…", "fix this"), in the
writer's own words: quoted lines and code blocks (often the crew's own text) are left out, and
so are negated forms ("please don't change").
"""

from __future__ import annotations

import re

from bot.triggers.commands import parse_command

VERBS = r"(?:fix|change|update|apply|rename|add|remove|handle|use|make|strip|correct|adjust)"
REQUESTS = (
    re.compile(rf"\bplease\s+{VERBS}\b"),
    re.compile(rf"\b(?:can|could|would|will)\s+you\s+(?:please\s+)?{VERBS}\b"),
    re.compile(rf"(?:^|[.!?]\s+){VERBS}\s+(?:this|it|that)\b(?!\s*\?)", re.M),
    re.compile(r"\bapply\s+(?:the|your)\s+suggestion\b"),
)


def asks_for_change(body: str | None) -> bool:
    command = parse_command(body)
    if command is not None:
        return command.name == "fix"
    words = _own_words(body or "").lower()
    return any(pattern.search(words) for pattern in REQUESTS)


def _own_words(body: str) -> str:
    """The reply without quoted lines and fenced or indented code."""
    kept, in_code = [], False
    for raw in body.splitlines():
        line = raw.strip()
        if line.startswith(("```", "~~~")):
            in_code = not in_code
            continue
        if in_code or line.startswith(">") or raw.startswith((" " * 4, "\t")):
            continue
        kept.append(line)
    return "\n".join(kept)
