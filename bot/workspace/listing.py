"""Which files a workspace has: git's view (ignored files left out) or, failing that, a walk."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from pathspec import GitIgnoreSpec

from bot.roster.globs import GlobError, glob_pattern
from bot.workspace.gitcli import GitError, run_git
from bot.workspace.paths import WorkspaceError


def files_under(root: Path, parts: tuple[str, ...]) -> list[str]:
    """Root-relative posix paths of the files (and links) under `parts`, sorted, no `.git`."""
    names = _git_listing(root, parts) if (root / ".git").is_dir() else None
    if names is None:
        names = set(_walk(root, root.joinpath(*parts)))
    return sorted(name for name in names if ".git" not in name.lower().split("/"))


def matching(pattern: str, names: list[str], under: tuple[str, ...]) -> list[str]:
    """The names a list_files pattern picks, read as a .gitignore line (case-sensitive, as git).

    A pattern without `/` matches the file name; with `/`, the path from `under` or the root,
    and a directory it names stands for the files in it (`src/*` lists all of `src`).
    """
    try:
        spec = GitIgnoreSpec([glob_pattern(pattern, ignore_case=False)], backend="simple")
    except GlobError as error:
        raise WorkspaceError(f"the list_files pattern {error}") from None
    if "/" not in pattern:
        return [name for name in names if spec.match_file(name.rsplit("/", 1)[-1])]
    prefix = "/".join(under) + "/" if under else ""
    return [
        name
        for name in names
        if spec.match_file(name) or spec.match_file(name.removeprefix(prefix))
    ]


def _git_listing(root: Path, parts: tuple[str, ...]) -> set[str] | None:
    pathspec = [f":(literal){'/'.join(parts)}"] if parts else []
    args = ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *pathspec]
    try:
        listed = run_git(args, cwd=root).stdout
    except GitError:
        return None  # not a usable repository after all: walk the tree instead
    return {name for name in listed.split("\0") if name and _is_file(root / name)}


def _is_file(path: Path) -> bool:
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return False  # in the index but deleted in the working tree
    return stat.S_ISREG(mode) or stat.S_ISLNK(mode)


def _walk(root: Path, start: Path) -> Iterator[str]:
    stack = [start]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            if entry.name.lower() == ".git":
                continue
            if entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))
            else:
                yield Path(entry.path).relative_to(root).as_posix()
