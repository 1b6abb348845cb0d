"""Reading unified diffs: which new-side lines a review comment may sit on (GitHub's rule)."""

from __future__ import annotations

import re

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


def commentable_lines(diff: str) -> dict[str, set[int]]:
    """New-side line numbers in each file's hunks (added and context lines) of a `git diff`."""
    lines: dict[str, set[int]] = {}
    path: str | None = None
    number = 0
    for line in diff.splitlines():
        if line.startswith("+++ "):
            target = line[4:].strip()
            path = None if target == "/dev/null" else target.removeprefix("b/")
            if path is not None:
                lines.setdefault(path, set())
            continue
        if line.startswith("--- ") or line.startswith("diff --git"):
            continue
        hunk = _HUNK.match(line)
        if hunk:
            number = int(hunk.group(1))
            continue
        if path is None or not line or line.startswith("\\"):
            continue
        if line[0] == "+" or line[0] == " ":
            lines[path].add(number)
            number += 1
    return lines
