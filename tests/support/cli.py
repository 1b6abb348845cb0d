"""The real `repocrew` command in a subprocess, in a clean directory and environment, as a
person at a shell would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPOCREW = str(Path(sys.executable).with_name("repocrew"))


@dataclass(frozen=True)
class Ran:
    code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    @property
    def one_line(self) -> str:
        """The only non-empty line on stderr (fails when there are more or none)."""
        assert "Traceback" not in self.stderr, self.stderr
        (line,) = self.error_lines
        return line


def clean_env(cwd: Path, **values: str) -> dict[str, str]:
    """The process's environment without repocrew's or the model's settings, plus `values`
    (the store in `cwd` unless given)."""
    kept = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("REPOCREW_", "ANTHROPIC_"))
    }
    return kept | {"REPOCREW_DATABASE_URL": f"sqlite:///{cwd / 'repocrew.db'}", **values}


def repocrew(cwd: Path, *args: str, timeout: float = 60, **env: str) -> Ran:
    done = subprocess.run(
        [REPOCREW, *args],
        cwd=cwd,
        env=clean_env(cwd, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Ran(done.returncode, done.stdout, done.stderr)
