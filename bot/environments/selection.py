"""A selection of tests (`run_tests` with paths, test ids or a `-k` expression) made into the
test command: pytest takes all three, in place of the paths the command itself names; other
known runners take paths only, added to their command; a command of no known runner takes none.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.environments.plan import EnvironmentPlan, shell_line

# pytest options whose value is the next word (a path there is not a test to run).
PYTEST_VALUED = frozenset(
    "-k -m -p -c -o -W -r -n --rootdir --confcutdir --basetemp --junitxml --junit-xml "
    "--deselect --ignore --ignore-glob --cov --cov-report --cov-config --durations "
    "--maxfail --numprocesses --dist --timeout --tb --import-mode --log-level --log-file "
    "--capture --color --override-ini --config-file --inifile --pyargs --reruns".split()
)
OPERATORS = frozenset(("&&", "||", ";", "|"))


class SelectionRefused(ValueError):
    """The selection cannot be run as asked; the message says why and what would work."""


@dataclass(frozen=True)
class TestSelection:
    """Tests to run instead of the whole suite: paths or test ids, and a `-k` expression."""

    __test__ = False

    tests: tuple[str, ...] = ()
    keyword: str = ""

    def __bool__(self) -> bool:
        return bool(self.tests or self.keyword)


def selected_command(
    plan: EnvironmentPlan, selection: TestSelection, root: Path
) -> tuple[str, ...]:
    """The plan's test command running only `selection` (the whole command when it is empty)."""
    command = plan.test_command
    if not selection:
        return command
    if plan.test_runner == "unknown":
        raise SelectionRefused(
            f"the test command `{shlex.join(command)}` is not a test runner repocrew knows, so it "
            "cannot select tests; run the whole suite (no selection), or one test with `run`"
        )
    if plan.test_runner != "pytest":
        if selection.keyword or any("::" in test for test in selection.tests):
            raise SelectionRefused(
                f"this repository's tests run with {plan.test_runner}: select them by file paths "
                "only (no test ids, no keyword)"
            )
    for test in selection.tests:
        _check_test(test, root, ids=plan.test_runner == "pytest")
    if plan.test_runner != "pytest":
        return _appended(command, list(selection.tests))
    args = list(selection.tests) + (["-k", selection.keyword] if selection.keyword else [])
    line = shell_line(command)
    if line is not None:
        return (*command[:2], _selected_line(line, args))
    return (*_without_tests(list(command)), *args)


def _check_test(test: str, root: Path, *, ids: bool) -> None:
    path = test.split("::", 1)[0] if ids else test
    parts = path.split("/")
    if not path or path.startswith(("-", "/")) or ".." in parts or "\n" in test or "\0" in test:
        raise SelectionRefused(f"`{test}` is not a test path inside the repository")
    if not (root / path).exists():
        raise SelectionRefused(f"`{path}` does not exist in the repository")


def _appended(command: tuple[str, ...], args: list[str]) -> tuple[str, ...]:
    line = shell_line(command)
    if line is not None:
        return (*command[:2], f"{line} {shlex.join(args)}")
    if command and command[0] in ("npm", "yarn", "pnpm", "bun") and "--" not in command:
        return (*command, "--", *args)
    return (*command, *args)


def _selected_line(line: str, args: list[str]) -> str:
    """A shell line with the selection: its last command's test paths replaced when the line
    is plain words and `&&`/`;`/`|` (anything else, such as a redirection, only gets them added)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:
        tokens = []
    if not tokens or any(set(t) <= set("();<>|&") and t not in OPERATORS for t in tokens):
        return f"{line} {shlex.join(args)}"
    last = max((i for i, t in enumerate(tokens) if t in OPERATORS), default=-1) + 1
    words = [*tokens[:last], *_without_tests(tokens[last:]), *args]
    return " ".join(t if t in OPERATORS else shlex.quote(t) for t in words)


def _without_tests(words: Sequence[str]) -> list[str]:
    """pytest's words without the test paths they name (the selection takes their place)."""
    start = _pytest_at(words)
    if start is None:
        return list(words)
    kept = list(words[: start + 1])
    for index in range(start + 1, len(words)):
        word, previous = words[index], words[index - 1]
        if word.startswith("-") or (previous in PYTEST_VALUED and index - 1 > start):
            kept.append(word)
    return kept


def _pytest_at(words: Sequence[str]) -> int | None:
    """Where pytest's own arguments start: the index of `pytest` (or of `-m pytest`'s module)."""
    for index, word in enumerate(words):
        if word.rsplit("/", 1)[-1] in ("pytest", "py.test"):
            return index
    return None
