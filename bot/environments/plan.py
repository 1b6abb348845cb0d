"""What detection reads and writes: a checkout's files, read safely; the plan the runner follows;
and the test command's runner, told from its words (so the runner knows how to ask for JUnit).

A plan is plain data: shell commands to run at the repository root (they create `.venv` or
`node_modules` there, the conventional places the tests look), the test command as argv, and the
files whose content the environment depends on, for a cache key.
"""

from __future__ import annotations

import configparser
import re
import shlex
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Kind = Literal["python", "node", "none"]
TestRunner = Literal[
    "pytest", "unittest", "node-test", "jest", "vitest", "mocha", "tape", "tap", "ava", "unknown"
]

VENV = ".venv"  # the virtualenv, at the repository root; the sandbox mounts the cached one here
NODE_MODULES = "node_modules"
MAX_BYTES = 1_000_000  # a manifest is small; a huge file is read only this far


@dataclass(frozen=True)
class EnvironmentPlan:
    """How one repository is set up and tested, and why."""

    __test__ = False  # not a pytest test class, despite the field names

    kind: Kind
    setup: tuple[str, ...]  # shell commands, in order, at the repository root
    test_command: tuple[str, ...]  # argv, run at the root with `path` first on PATH
    test_runner: TestRunner
    depends_on: tuple[str, ...]  # repository-relative files the environment is built from
    python: str | None  # the interpreter wanted ("3.12" → python3.12); None: python3
    node: str | None  # a Node version hint (the roster's, or package.json's engines.node)
    cache: bool  # whether an environment built from the same inputs may be reused
    reason: str  # for humans: what was found and what it means
    environment_dir: str | None  # what the set-up creates (".venv", "node_modules"), if anything
    path: tuple[str, ...]  # directories (relative) to put first on PATH for the tests
    explicit_setup: bool = False  # the set-up came from [environment] setup
    explicit_test_command: bool = False  # the test command came from [tests] command
    readable_secrets: tuple[str, ...] = ()  # secret files the set-up may see (crew file)


@dataclass
class Checkout:
    """A checkout's files as detection reads them, remembering which exist (the plan's
    `depends_on`) and what could not be read (its reason says so)."""

    root: Path
    files: list[str] = field(default_factory=list)  # the files read that exist, in order
    notes: list[str] = field(default_factory=list)

    def text(self, name: str) -> str | None:
        """A file of the checkout; never one a symlink leads out of it to (this runs on the
        host, and what it reads becomes commands that reach the registries)."""
        path = self.root / name
        if not path.is_file() or not path.resolve().is_relative_to(self.root.resolve()):
            return None
        if name not in self.files:
            self.files.append(name)
        with path.open("rb") as file:
            return file.read(MAX_BYTES).decode("utf-8", errors="replace")

    def toml(self, name: str) -> dict[str, Any]:
        text = self.text(name)
        try:
            return tomllib.loads(text) if text is not None else {}
        except tomllib.TOMLDecodeError:
            self.notes.append(f"{name} is not valid TOML (ignored)")
            return {}

    def ini(self, name: str) -> configparser.ConfigParser | None:
        text = self.text(name)
        if text is None:
            return None
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read_string(text)
        except configparser.Error:
            self.notes.append(f"{name} is not a readable INI file (ignored)")
        return parser


def table(data: Any, *keys: str) -> dict[str, Any]:
    """The table at `keys` in TOML data, or {} where the file has something else there."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def strings(value: Any) -> list[str]:
    """The strings of a TOML array (anything else in it, or any other value, is left out)."""
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


# The first word of a command that is the runner itself, by the name it is called.
RUNNER_WORDS: dict[str, TestRunner] = {
    "pytest": "pytest",
    "py.test": "pytest",
    "jest": "jest",
    "vitest": "vitest",
    "mocha": "mocha",
    "_mocha": "mocha",
    "tape": "tape",
    "tap": "tap",
    "ava": "ava",
}
# Words that run the command after them (coverage, environment, package runners).
WRAPPERS = frozenset("npx env cross-env dotenv nyc c8 nodemon time exec coverage".split())
_SEPARATORS = re.compile(r"&&|\|\||[;|&\n]")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
# `npm test` asks for the `test` script, `npm run x`, `yarn x` and `pnpm x` for script x.
_SCRIPT_RUNNERS = frozenset("npm yarn pnpm bun".split())
_NPM_SUBCOMMANDS = {"test": "test", "t": "test", "tst": "test", "start": "start"}


def commands_of(text: str) -> list[list[str]]:
    """The simple commands of a shell line (`a && b | c; d`), each as its words; the
    separators are found outside quotes only roughly, which is enough to name programs."""
    commands = []
    for part in _SEPARATORS.split(text):
        try:
            words = shlex.split(part)
        except ValueError:  # an unbalanced quote: its first words still name the program
            words = part.split()
        if words:
            commands.append(words)
    return commands


def program_of(words: Sequence[str]) -> list[str]:
    """The words from the program on: assignments, wrappers and their options left out."""
    index = 0
    while index < len(words):
        word = words[index]
        name = word.rsplit("/", 1)[-1]
        if _ASSIGNMENT.match(word) or word.startswith("-") or name in WRAPPERS:
            index += 1
        else:
            return [name, *words[index + 1 :]]
    return []


def script_called(words: Sequence[str]) -> str | None:
    """The package.json script a command runs (`npm test`, `npm run x`, `yarn x`), if any."""
    program = program_of(words)
    if not program or program[0] not in _SCRIPT_RUNNERS:
        return None
    rest = [word for word in program[1:] if not word.startswith("-")]
    ran = rest[:1] in (["run"], ["run-script"])
    rest = rest[1:] if ran else rest
    if not rest:
        return None
    if ran:
        return rest[0]
    if program[0] == "npm":  # npm's other words are its own commands (install, ci, audit...)
        return _NPM_SUBCOMMANDS.get(rest[0])
    return _NPM_SUBCOMMANDS.get(rest[0], rest[0])


def expand(
    text: str, scripts: Mapping[str, str], seen: frozenset[str] = frozenset()
) -> list[list[str]]:
    """The simple commands a command line runs, the package.json scripts it calls expanded."""
    found: list[list[str]] = []
    for words in commands_of(text):
        script = script_called(words)
        if script is not None and script in scripts and script not in seen:
            found += expand(scripts[script], scripts, seen | {script})
        else:
            found.append(words)
    return found


SHELLS = frozenset({"sh", "bash", "dash"})


def shell_line(command: Sequence[str]) -> str | None:
    """The line of `sh -c LINE` (a shell command given as one string), else None."""
    if len(command) == 3 and command[0].rsplit("/", 1)[-1] in SHELLS and command[1] == "-c":
        return command[2]
    return None


def runner_of(command: Sequence[str], scripts: Mapping[str, str] | None = None) -> TestRunner:
    """Which test runner a command runs, looking through the package.json scripts it calls
    (and into a shell's `-c` line: `sh -c "python -m pytest"` runs pytest)."""
    line = shell_line(command)
    for words in expand(line if line is not None else shlex.join(command), scripts or {}):
        program = program_of(words)
        if not program:
            continue
        name, args = program[0], program[1:]
        if name in RUNNER_WORDS:
            return RUNNER_WORDS[name]
        module = args[args.index("-m") + 1] if "-m" in args[:-1] else None
        if module in ("pytest", "unittest"):  # python -m pytest, coverage run -m pytest
            return "pytest" if module == "pytest" else "unittest"
        if name == "node" and "--test" in args:
            return "node-test"
        script = next((arg for arg in args if not arg.startswith("-")), "")
        if name == "node" and script.rsplit("/", 1)[-1] in RUNNER_WORDS:  # node …/.bin/tape
            return RUNNER_WORDS[script.rsplit("/", 1)[-1]]
        if name == "react-scripts" and "test" in args:
            return "jest"
    return "unknown"
