"""The task manifest (`../shared/realrepos/manifest.toml` and others of its format), read into
plain data with errors that name the task and the field."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

ALL_PASSING_AT_BASE = "all_passing_at_base"
ECOSYSTEMS = ("pypi", "npm")


class ManifestError(ValueError):
    """The manifest cannot be used; str() names the task and the field."""


@dataclass(frozen=True)
class Task:
    name: str
    ecosystem: Literal["pypi", "npm"]
    package: str
    base_version: str
    fixed_version: str
    base_sha256: str
    fixed_sha256: str
    title: str  # the bug as a user reports it: with `body`, all a model may see
    body: str
    install_command: str
    test_command: str
    fix_files: tuple[str, ...]
    test_files: tuple[str, ...]
    fail_to_pass: tuple[str, ...]
    pass_to_pass: tuple[str, ...] | None  # None: every test that passes at base

    def for_model(self) -> dict[str, str]:
        """The only task text a model may see."""
        return {"title": self.title, "body": self.body}


def load_manifest(path: Path) -> list[Task]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ManifestError(f"{path}: {error}") from None
    tasks = data.get("task")
    if not isinstance(tasks, list) or not tasks:
        raise ManifestError(f"{path}: no [[task]] entries")
    return [_task(entry, f"{path}: task {index + 1}") for index, entry in enumerate(tasks)]


def _task(entry: dict[str, Any], where: str) -> Task:
    def text(key: str) -> str:
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ManifestError(f"{where} ({entry.get('name', '?')}): `{key}` must be a string")
        return value

    def names(key: str) -> tuple[str, ...]:
        value = entry.get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ManifestError(f"{where} ({entry.get('name', '?')}): `{key}` must be a list")
        return tuple(value)

    ecosystem = text("ecosystem")
    if ecosystem not in ECOSYSTEMS:
        raise ManifestError(f"{where}: ecosystem {ecosystem!r} (known: {', '.join(ECOSYSTEMS)})")
    keep = entry.get("pass_to_pass")
    return Task(
        name=text("name"),
        ecosystem=ecosystem,  # type: ignore[arg-type]
        package=text("package"),
        base_version=text("base_version"),
        fixed_version=text("fixed_version"),
        base_sha256=text("base_sdist_sha256").lower(),
        fixed_sha256=text("fixed_sdist_sha256").lower(),
        title=text("task_title"),
        body=text("task_body").strip(),
        install_command=text("install_command"),
        test_command=text("test_command"),
        fix_files=names("fix_files"),
        test_files=names("test_files"),
        fail_to_pass=names("fail_to_pass"),
        pass_to_pass=None if keep == ALL_PASSING_AT_BASE else names("pass_to_pass"),
    )
