"""The `/crew` comment commands: grammar, table and help text (pure; the handlers act on them).

Grammar: a line of its own starting with `/crew`, then one command word and its arguments,
e.g. `/crew plan`, `/crew go`, `/crew stop`. Only the first such line of a comment counts;
quoted lines (`> /crew go`) and code blocks are not commands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# command → (what it does, where it works)
COMMANDS: dict[str, tuple[str, str]] = {
    "plan": ("plan and research the issue, then wait for `/crew go`", "issue"),
    "go": ("start the whole run (or continue after `/crew plan`)", "issue"),
    "review": (
        "have the reviewer review this pull request (the commits since its last review; "
        "`/crew review full`: all of it), and nothing else",
        "pull request",
    ),
    "fix": (
        "have the coder change what a review thread on the crew's pull request asks",
        "reply in a review thread",
    ),
    "sprint": (
        "start a sprint on this tracking issue: the lead plans the goal (`/crew sprint <goal> "
        "[--days N]`, else the issue) into dependent tasks; `/crew go` approves the plan",
        "issue",
    ),
    "retry": ("start a fresh run after a failed or stopped one", "issue"),
    "stop": ("stop the run of this issue or pull request", "issue or pull request"),
    "status": ("say where the run of this issue or pull request is", "issue or pull request"),
    "help": ("list the commands", "anywhere"),
}

WRITE_PERMISSIONS = frozenset({"admin", "maintain", "write"})

_LINE = re.compile(r"^/crew(?:\s+(\S+))?(?:\s+(.*))?$")


@dataclass(frozen=True)
class Command:
    name: str  # a key of COMMANDS, or "unknown"
    word: str = ""
    argument: str = ""


def parse_command(body: str | None) -> Command | None:
    """The comment's command, `Command("unknown", word)` for a word we don't know, or None."""
    in_code = False
    for raw in (body or "").splitlines():
        line = raw.strip()
        if line.startswith("```") or line.startswith("~~~"):
            in_code = not in_code
            continue
        if in_code or raw.startswith((" " * 4, "\t")):
            continue
        found = _LINE.match(line)
        if found is None:
            continue
        word = (found.group(1) or "help").lower()
        argument = (found.group(2) or "").strip()
        return Command(word if word in COMMANDS else "unknown", word, argument)
    return None


def help_text(trigger_label: str) -> str:
    rows = "\n".join(
        f"| `/crew {name}` | {what} | {where} |" for name, (what, where) in COMMANDS.items()
    )
    return (
        "**repocrew commands** (people with write access to this repository only):\n\n"
        f"| command | what it does | where |\n|---|---|---|\n{rows}\n\n"
        f"Labelling an issue `{trigger_label}` is the same as `/crew go`."
    )


def unknown_reply(word: str, trigger_label: str) -> str:
    return f"I don't know `/crew {word}`.\n\n{help_text(trigger_label)}"


def not_allowed_reply(login: str) -> str:
    return (
        f"Thanks, @{login}, but only people with write access to this repository can start "
        "or steer the crew, so nothing was started. A maintainer can do it for you."
    )
