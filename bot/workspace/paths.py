"""Untrusted paths from the model: parse them and open them link-free (globs: bot.roster.globs).

Confinement is checked twice: `split_path` refuses what can never be inside the workspace
(`/x`, `~x`, `..`), and every open walks from the root one directory at a time with
`O_NOFOLLOW`, so a symbolic link (or one swapped in between a check and a use) is never
followed. Messages go to the model verbatim: they name the relative path, never a host path.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Sequence

_MAX_SHOWN = 200
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class WorkspaceError(Exception):
    """A refused or failed file operation; the message is shown to the model verbatim."""


def shown(path: str) -> str:
    """The model's own path, quoted and cut short, for an error message."""
    return f"`{path[:_MAX_SHOWN]}{'…' if len(path) > _MAX_SHOWN else ''}`"


def split_path(path: str) -> tuple[str, ...]:
    """The components of a workspace-relative path (`()` for the root), or a WorkspaceError."""
    if not isinstance(path, str):
        raise WorkspaceError("the path must be a string")
    if "\0" in path:
        raise WorkspaceError("the path contains a NUL byte")
    relative_hint = "use a path relative to the repository root, like `src/app.py`"
    if path.startswith("~"):
        raise WorkspaceError(f"{shown(path)}: `~` paths are not allowed; {relative_hint}")
    if path.startswith(("/", "\\")) or re.match(r"[A-Za-z]:[\\/]", path):
        raise WorkspaceError(f"{shown(path)}: absolute paths are not allowed; {relative_hint}")
    parts = tuple(part for part in path.split("/") if part not in ("", "."))
    if ".." in parts:
        raise WorkspaceError(f"{shown(path)}: `..` is not allowed in paths; {relative_hint}")
    return parts


def _refusal(parent_fd: int, name: str, relative: str, error: OSError) -> WorkspaceError:
    """Why opening `name` failed, told in workspace terms (an OSError would name host paths)."""
    try:
        mode = os.stat(name, dir_fd=parent_fd, follow_symlinks=False).st_mode
    except OSError:
        mode = None
    if mode is not None and stat.S_ISLNK(mode):
        return WorkspaceError(
            f"`{relative}` is a symbolic link; the crew does not follow links "
            "(use the path of the file it points to)"
        )
    if error.errno == errno.ENOENT:
        return WorkspaceError(f"`{relative}` does not exist (use list_files to find paths)")
    if error.errno == errno.ENOTDIR or (mode is not None and not stat.S_ISDIR(mode)):
        return WorkspaceError(f"`{relative}` is not a directory")
    if error.errno == errno.EISDIR:
        return WorkspaceError(f"`{relative}` is a directory (use list_files to see its contents)")
    return WorkspaceError(f"`{relative}`: {error.strerror or 'cannot be opened'}")


def open_parent(root_fd: int, parts: Sequence[str], *, create: bool) -> int:
    """A descriptor of the directory holding `parts[-1]`, reached without following links."""
    fd = os.dup(root_fd)
    try:
        for depth, name in enumerate(parts[:-1], start=1):
            if create:
                try:
                    os.mkdir(name, 0o755, dir_fd=fd)
                except FileExistsError:
                    pass
                except OSError as error:
                    raise _refusal(fd, name, "/".join(parts[:depth]), error) from None
            try:
                child = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except OSError as error:
                raise _refusal(fd, name, "/".join(parts[:depth]), error) from None
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_file(root_fd: int, parts: Sequence[str], flags: int, *, create_dirs: bool = False) -> int:
    """A descriptor of a regular file, opened link-free; anything else is a WorkspaceError."""
    relative = "/".join(parts)
    parent = open_parent(root_fd, parts, create=create_dirs)
    try:
        # O_NONBLOCK: opening a FIFO must fail or return at once, never hang the worker.
        flags |= os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            fd = os.open(parts[-1], flags, 0o644, dir_fd=parent)
        except OSError as error:
            raise _refusal(parent, parts[-1], relative, error) from None
    finally:
        os.close(parent)
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        kind = (
            "a directory (use list_files)" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        )
        raise WorkspaceError(f"`{relative}` is {kind}")
    return fd


def unlink_file(root_fd: int, parts: Sequence[str]) -> None:
    """Remove one directory entry without following it; directories are refused."""
    relative = "/".join(parts)
    parent = open_parent(root_fd, parts, create=False)
    try:
        try:
            mode = os.stat(parts[-1], dir_fd=parent, follow_symlinks=False).st_mode
        except OSError as error:
            raise _refusal(parent, parts[-1], relative, error) from None
        if stat.S_ISDIR(mode):
            raise WorkspaceError(f"`{relative}` is a directory; delete the files in it one by one")
        os.unlink(parts[-1], dir_fd=parent)
    finally:
        os.close(parent)
