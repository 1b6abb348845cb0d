"""Where the workspace shows inside the sandbox, and what else is bound there.

A built environment (a virtualenv, node_modules) holds absolute paths, so it works only where
it was built: environments are built and used with the workspace at one fixed path
(`WORKSPACE`), whatever the host path of the clone, and bound read-only over the clone's own
`.venv` or `node_modules`. A results folder is bound writable outside the workspace, so a
report never lands in what the coder commits. The workspace's secret files (`.env*`, keys,
`.npmrc`…) show empty, unless the operator lets the tests see them (`readable_secrets`).
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from bot.roster.globs import GlobSet
from bot.roster.protected import SECRET_FILES

WORKSPACE = PurePosixPath("/workspace")
SCRATCH_BYTES = 512 * 1024**2  # each scratch folder is a tmpfs: RAM
RESULTS = PurePosixPath("/run/repocrew/results")
MAX_HIDDEN = 1_000
# Where a workspace keeps other people's files (an environment, dependencies): not searched.
_NOT_SEARCHED = {".git", "node_modules", ".venv", "venv", ".tox", ".nox", "site-packages"}


@dataclass(frozen=True)
class Bind:
    source: Path  # on the host
    target: str  # in the sandbox: absolute, or relative to where the workspace shows
    writable: bool = False


@dataclass(frozen=True)
class Layout:
    workspace_at: PurePosixPath | None = None  # None: at its own host path
    binds: tuple[Bind, ...] = field(default_factory=tuple)
    readable_secrets: tuple[str, ...] = ()  # globs of secret files the sandbox may see
    # Folders shown empty and writable for the run only, over a read-only bind: a tool's cache
    # inside the environment (`node_modules/.cache`, where nyc, AVA and babel write).
    scratch: tuple[str, ...] = ()

    def inside(self, workspace: Path) -> PurePosixPath:
        """Where the workspace shows in the sandbox."""
        return self.workspace_at or PurePosixPath(workspace)

    def bwrap_args(self, workspace: Path) -> list[str]:
        """The workspace bind, its `.git` read-only, then the other binds (deepest last) and
        the scratch folders on top."""
        inside = str(self.inside(workspace))
        args = ["--bind", str(workspace), inside, "--chdir", inside]
        for git in git_metadata(workspace):
            args += ["--ro-bind", str(git), f"{inside}/.git"]
        for bind in sorted(self.binds, key=lambda b: b.target.count("/")):
            target = bind.target if bind.target.startswith("/") else f"{inside}/{bind.target}"
            args += ["--bind" if bind.writable else "--ro-bind", str(bind.source), target]
        for folder in self.scratch:
            target = folder if folder.startswith("/") else f"{inside}/{folder}"
            args += ["--size", str(SCRATCH_BYTES), "--tmpfs", target]
        for relative in secret_files(workspace, self.readable_secrets):
            args += ["--ro-bind", str(empty_file()), f"{inside}/{relative}"]
        return args


def secret_files(workspace: Path, readable: Iterable[str] = ()) -> list[str]:
    """The workspace's secret files (links left out: what they name is masked, or outside),
    less those the operator lets the sandbox see; at most MAX_HIDDEN."""
    secret, allowed = GlobSet(SECRET_FILES), GlobSet(readable)
    found: list[str] = []
    for folder, dirs, names in os.walk(workspace):
        dirs[:] = sorted(d for d in dirs if d not in _NOT_SEARCHED)
        for name in sorted(names):
            path = Path(folder) / name
            relative = path.relative_to(workspace).as_posix()
            if secret.matches(relative) and not allowed.matches(relative) and _plain(path):
                found.append(relative)
                if len(found) >= MAX_HIDDEN:
                    return found
    return found


@functools.cache
def empty_file() -> Path:
    """An empty, read-only file to show in place of a secret (a device node such as /dev/null
    cannot be opened where the workspace is mounted `nodev`)."""
    folder = Path(tempfile.mkdtemp(prefix="repocrew-empty-"))
    folder.chmod(0o755)
    path = folder / "empty"
    path.touch()
    path.chmod(0o444)
    return path


def _plain(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def git_metadata(workspace: Path) -> list[Path]:
    """The clone's `.git`, shown read-only: the host runs git in this workspace afterwards (with
    the installation token), so tests that rewrote its config (the remote URL, a proxy, a
    filter driver) would run code or send the token where they chose, outside the sandbox."""
    path = workspace / ".git"
    return [path] if path.exists() and not path.is_symlink() else []
