"""The team's shared memory: what each step is shown of the task and of earlier steps.

Each step sees what it needs, not the whole history: the coder the plan and research (in its
fixes too), the reviewer the change and its diff, the fixer the feedback it must answer. Text
that came from outside the crew (the task, file contents, test output, human comments) is
fenced as untrusted. The files earlier steps read are named ("already read: …"), so nobody
reads them again blindly.
The context is fixed for a step, so it is part of the cached prompt prefix.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.security.untrusted import fence_untrusted
from bot.store.models import Run

# Which earlier results each step is shown (by step name; the newest of each kind).
SHOWN: Mapping[str, tuple[str, ...]] = {
    "plan": ("research",),
    "research": ("plan",),
    "code": ("plan", "research"),
    "review": ("plan", "code", "fix"),
    "fix": ("plan", "research", "code", "fix"),
    "test": ("code", "fix", "ci"),
    "vote": ("plan", "code", "fix", "review", "test", "ci"),
    # A role answering a teammate's question (`ask`) sees everything so far.
    "answer": ("plan", "research", "code", "fix", "review", "test", "ci"),
}

TITLES = {
    "plan": "The plan",
    "research": "The researcher's check of the plan",
    "code": "The change (coder's summary)",
    "fix": "The latest fix (coder's summary)",
    "review": "The latest review",
    "test": "The latest test report",
    "ci": "CI results on the pull request (e.g. GitHub Actions)",
}


def kind_of(step_key: str) -> str:
    """`review-2` → `review`; `vote-1.coder` → `vote`."""
    return step_key.split("-", 1)[0]


def newest(outputs: Mapping[str, dict[str, Any]], kind: str) -> dict[str, Any] | None:
    found = [content for key, content in outputs.items() if kind_of(key) == kind]
    return found[-1] if found else None


def task_block(run: Run) -> str:
    where = f"issue #{run.issue_number}" if run.issue_number else "the task request"
    text = f"{run.title}\n\n{run.task}".strip()
    return "## The task\n" + fence_untrusted(text, source=f"{where} on {run.repo}")


def context_for(step: str, run: Run, outputs: Mapping[str, dict[str, Any]], extra: str = "") -> str:
    """The shared context of `step`: the task, the earlier results it needs, and `extra`."""
    parts = [task_block(run)]
    for kind in SHOWN.get(step, ()):
        if kind == "ci":  # every check, not only the newest
            checks = [c for key, c in outputs.items() if kind_of(key) == "ci"]
            if checks:
                parts.append(
                    f"## {TITLES[kind]}\n"
                    + fence_untrusted(json.dumps(checks, indent=1), source="CI check runs")
                )
            continue
        content = newest(outputs, kind)
        if content is not None:
            parts.append(f"## {TITLES[kind]}\n{_as_text(kind, content)}")
    read = already_read(outputs) if step != "vote" else ""
    if read:
        parts.append(read)
    if extra:
        parts.append(extra)
    return "\n\n".join(parts)


def already_read(outputs: Mapping[str, dict[str, Any]]) -> str:
    """`already read: calc/ages.py (research-1, code-1), …`: the files earlier steps read."""
    by_path: dict[str, list[str]] = {}
    for key, content in outputs.items():
        for path in (content.get("files_read") if isinstance(content, dict) else None) or []:
            by_path.setdefault(str(path), []).append(key)
    if not by_path:
        return ""
    listed = ", ".join(f"{path} ({', '.join(keys)})" for path, keys in sorted(by_path.items()))
    return (
        "## Files earlier steps read\n"
        "Their content is not repeated here: read one again only for the part you need (the "
        "branch may have changed it since).\n"
        + fence_untrusted(f"already read: {listed}", source="paths read by earlier steps")
    )


# Bookkeeping the agents need not see; commit ids, branch names and timings differ between a run
# and its replay, which would make every later prompt differ.
NOT_SHOWN = frozenset(
    {"sha", "branch", "pr", "findings", "event", "duration_seconds", "files_read"}
)


def _as_text(kind: str, content: dict[str, Any]) -> str:
    shown = {k: v for k, v in content.items() if k not in NOT_SHOWN}
    if kind == "test":
        output = shown.pop("output", "")
        return json.dumps(shown, indent=1) + "\n" + fence_untrusted(output, source="test output")
    return json.dumps(shown, indent=1, ensure_ascii=False)
