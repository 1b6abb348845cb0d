"""Where the workspace shows inside the sandbox, and what else is bound there.

A built environment (a virtualenv, node_modules) holds absolute paths, so it works only where
it was built: environments are built and used with the workspace at one fixed path
(`WORKSPACE`), whatever the host path of the clone, and bound read-only over the clone's own
`.venv` or `node_modules`. A results folder is bound writable outside the workspace, so a
report never lands in what the coder commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

WORKSPACE = PurePosixPath("/workspace")
RESULTS = PurePosixPath("/run/repocrew/results")


@dataclass(frozen=True)
class Bind:
    source: Path  # on the host
    target: str  # in the sandbox: absolute, or relative to where the workspace shows
    writable: bool = False


@dataclass(frozen=True)
class Layout:
    workspace_at: PurePosixPath | None = None  # None: at its own host path
    binds: tuple[Bind, ...] = field(default_factory=tuple)

    def inside(self, workspace: Path) -> PurePosixPath:
        """Where the workspace shows in the sandbox."""
        return self.workspace_at or PurePosixPath(workspace)

    def bwrap_args(self, workspace: Path) -> list[str]:
        """The workspace bind, its `.git` read-only, then the other binds (deepest last)."""
        inside = str(self.inside(workspace))
        args = ["--bind", str(workspace), inside, "--chdir", inside]
        for git in git_metadata(workspace):
            args += ["--ro-bind", str(git), f"{inside}/.git"]
        for bind in sorted(self.binds, key=lambda b: b.target.count("/")):
            target = bind.target if bind.target.startswith("/") else f"{inside}/{bind.target}"
            args += ["--bind" if bind.writable else "--ro-bind", str(bind.source), target]
        return args


def git_metadata(workspace: Path) -> list[Path]:
    """The clone's `.git`, shown read-only: the host runs git in this workspace afterwards (with
    the installation token), so tests that rewrote its config (the remote URL, a proxy, a
    filter driver) would run code or send the token where they chose, outside the sandbox."""
    path = workspace / ".git"
    return [path] if path.exists() and not path.is_symlink() else []
