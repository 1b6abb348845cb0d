"""The secrets a workspace holds, so the scanner knows them before anything leaves.

Secret files (`.env*`, keys, `.npmrc`, `.netrc`…: `SECRET_FILES`) give every value they assign
(and a key file its whole text); the repository's configuration files (YAML, TOML, JSON, INI…)
give the values of variables whose names say secret (`password`, `token`, `api_key`…). The
scanner then looks for each value and its encodings (`bot.security.secrets`), so a test that
prints `.env` hex-encoded and a model that pastes it into a commit message are stopped alike.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

MAX_FILE_BYTES = 256_000
MAX_FILES = 5_000  # files looked at; a larger tree is cut, the secret files come first
MAX_VALUES = 500
MIN_VALUE = 8
SKIPPED_DIRS = {".git", "node_modules", ".venv", "venv", ".tox", ".nox", "__pycache__"}
CONFIG_SUFFIXES = {".yml", ".yaml", ".toml", ".json", ".ini", ".cfg", ".conf", ".properties"}
CONFIG_SUFFIXES |= {".xml", ".tfvars", ".env", ".sh"}

# `NAME=value`, `name: value`, `"name": "value"`, `export NAME="value"`, `password value`.
_ASSIGNMENT = re.compile(
    r"""^\s*(?:export\s+)?["']?(?P<name>[\w.\-/:@]+?)["']?\s*(?:=|:|\s)\s*(?P<value>.+?)\s*,?\s*$"""
)
_SECRET_NAME = re.compile(
    r"secret|token|passw(?:or)?d|pwd|passphrase|api[_.\-]?key|private[_.\-]?key|access[_.\-]?key"
    r"|credential|auth|signing|client[_.\-]?secret|dsn|connection[_.\-]?string",
    re.IGNORECASE,
)
_PLACEHOLDER = re.compile(
    r"\$\{|\{\{|%\(|<[a-z_ -]+>|^\$[A-Z_]+$|changeme|change[_-]me|example|placeholder|your[_-]"
    r"|x{6,}|\*{4,}|^(?:true|false|null|none)$",
    re.IGNORECASE,
)
_QUOTED_PAIR = re.compile(r'"([^"\n]{1,100})"\s*:\s*"([^"\n]{1,1000})"')  # JSON on one line
_KEYWORD_VALUE = re.compile(r"\b(?:password|passphrase|token|secret)\s+(\S+)", re.IGNORECASE)


def workspace_secrets(root: Path, is_secret_file: Callable[[str], bool]) -> list[str]:
    """The secret values the workspace holds (at most MAX_VALUES, longest first).

    `is_secret_file`: whether a repository-relative path is a secret file (the protected
    set's `SECRET_FILES`, whatever the operator lets the tools read).
    """
    found: dict[str, None] = {}
    for relative, whole in _candidates(root, is_secret_file):
        try:
            with open(root / relative, "rb") as stream:
                text = stream.read(MAX_FILE_BYTES).decode("utf-8", "replace")
        except OSError:
            continue
        if whole and "-----BEGIN" in text:
            found[text.strip()] = None
        for value in _values(text, any_name=whole):
            found[value] = None
    return sorted(found, key=len, reverse=True)[:MAX_VALUES]


def secret_settings(values: Mapping[str, str]) -> list[str]:
    """The values of secret-looking names in a mapping (the tests' `env` from the crew file)."""
    return [value for name, value in values.items() if _SECRET_NAME.search(name) and _usable(value)]


def _candidates(root: Path, is_secret: Callable[[str], bool]) -> Iterator[tuple[str, bool]]:
    """(path, is a secret file) for the secret files, then the configuration files."""
    secret, config = [], []
    for relative in _files(root):
        if is_secret(relative):
            secret.append((relative, True))
        elif os.path.splitext(relative)[1].lower() in CONFIG_SUFFIXES:
            config.append((relative, False))
    yield from secret
    yield from config


def _files(root: Path) -> Iterator[str]:
    seen = 0
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in sorted(names):
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file():
                continue
            seen += 1
            if seen > MAX_FILES:
                return
            yield path.relative_to(root).as_posix()


def _values(text: str, *, any_name: bool) -> Iterator[str]:
    if any_name:  # .netrc: `machine host login me password s3cret` on one line
        yield from (v for v in _KEYWORD_VALUE.findall(text) if _usable(v))
    for name, value in _QUOTED_PAIR.findall(text):
        if (any_name or _SECRET_NAME.search(name)) and _usable(value):
            yield value
    for line in text.splitlines():
        if line.lstrip().startswith(("#", ";")):
            continue
        found = _ASSIGNMENT.match(line)
        if found is None:
            continue
        if not any_name and not _SECRET_NAME.search(found["name"]):
            continue
        value = found["value"].strip().strip("\"'`").strip()
        if " #" in value and not any_name:
            value = value.split(" #", 1)[0].strip().strip("\"'")
        if _usable(value):
            yield value
        if any_name and "=" in value:  # .npmrc: `//host/:_authToken=value`
            tail = value.rsplit("=", 1)[1].strip("\"'")
            if _usable(tail):
                yield tail


def _usable(value: str) -> bool:
    if len(value) < MIN_VALUE or len(set(value)) < 4 or _PLACEHOLDER.search(value):
        return False
    return not value.startswith(("[", "{")) and not value.endswith(("{", "["))
