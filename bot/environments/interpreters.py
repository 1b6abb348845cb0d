"""Which Python creates a repository's virtualenv: the version `[environment] python` asks for,
found as a real executable on the host (pyenv's versions, PATH), never repocrew's own venv."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


class InterpreterMissing(LookupError):
    """The wanted Python is not on this host; str() says what to install or configure."""


@dataclass(frozen=True)
class Interpreter:
    executable: Path  # real, resolved
    prefix: Path  # its installation, shown read-only to the sandbox
    version: str  # "3.11.7"

    @property
    def bin(self) -> Path:
        return self.executable.parent


def find_interpreter(wanted: str | None, environ: dict[str, str] | None = None) -> Interpreter:
    """`wanted` is "3", "3.12" or None (the Python repocrew itself runs on, not its venv)."""
    if wanted in (None, "3"):
        return _describe(Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}")
    name = f"python{wanted}"
    environ = dict(os.environ) if environ is None else environ
    roots = [Path(environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"]
    candidates = sorted(roots[0].glob(f"{wanted}*/bin/{name}")) if roots[0].is_dir() else []
    on_path = shutil.which(name, path=_path_without_shims(environ.get("PATH", "")))
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file():
            return _describe(candidate)
    raise InterpreterMissing(
        f'no {name} on this host: install it (or remove `python = "{wanted}"` from '
        "[environment] in .repocrew.toml to use the default)"
    )


def _path_without_shims(path: str) -> str:
    return os.pathsep.join(part for part in path.split(os.pathsep) if "shims" not in part)


def _describe(executable: Path) -> Interpreter:
    real = executable.resolve()
    done = subprocess.run(
        [
            str(real),
            "-c",
            "import sys, platform; print(sys.prefix); print(platform.python_version())",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    lines = done.stdout.split()
    if done.returncode != 0 or len(lines) != 2:
        raise InterpreterMissing(f"{real} does not run: {done.stderr.strip()[:200]}")
    return Interpreter(real, Path(lines[0]), lines[1])
