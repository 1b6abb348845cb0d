"""The coder's file tools, confined to one workspace directory; every path is untrusted.

Reads return plain text (no line numbers) so that what the model copies into `edit` matches
the file byte for byte. Protected paths refuse changes; unreadable ones (secrets) refuse reads.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.roster.protected import BUILT_IN, SECRET_FILES, Protection
from bot.workspace import listing, text
from bot.workspace.paths import (
    WorkspaceError,
    open_file,
    shown,
    split_path,
    unlink_file,
)

__all__ = ["SearchHit", "Workspace", "WorkspaceError"]

_PROTECTED_HINT = "only the operator's crew file can let a role change it, with `may_edit`"
_SEARCH_FILE_BYTES = 1_000_000
_MAX_HIT_CHARS = 300


@dataclass(frozen=True)
class SearchHit:
    path: str
    line: int
    text: str


class Workspace:
    """File operations inside `root`; each method refuses with a WorkspaceError the model reads."""

    def __init__(
        self,
        root: Path,
        *,
        protection: Protection | None = None,
        protected: Sequence[str] = BUILT_IN,
        unreadable: Sequence[str] = SECRET_FILES,
        max_read_bytes: int = 200_000,
        max_write_bytes: int = 1_000_000,
    ) -> None:
        self.root = Path(root).resolve(strict=True)
        if not self.root.is_dir():
            raise ValueError(f"workspace root {self.root} is not a directory")
        # `protection` is the role's (bot.roster.protected); `protected` and `unreadable`, for
        # a workspace without a crew, replace the built-in globs (.git stays protected).
        self.protection = protection or Protection(tuple(protected), (), tuple(unreadable))
        # What the tools wrote or deleted: all a commit takes (bot.workspace.staging).
        self.touched: set[str] = set()
        self.max_read_bytes = max_read_bytes
        self.max_write_bytes = max_write_bytes

    # -- confinement ---------------------------------------------------------------------

    def resolve(self, path: str) -> Path:
        """The host path for a model-given path, refused if it could lead outside the root."""
        return self.root.joinpath(*self._parts(path))

    def is_protected(self, relative: str) -> bool:
        return self.protection.blocks_change(relative)

    def is_unreadable(self, relative: str) -> bool:
        return self.protection.blocks_read(relative)

    def _parts(self, path: str) -> tuple[str, ...]:
        parts = split_path(path)
        current = self.root
        for depth, name in enumerate(parts, start=1):
            current = current / name
            try:
                mode = os.lstat(current).st_mode
            except OSError:
                break  # the rest does not exist; the operation itself says so
            if stat.S_ISLNK(mode):
                raise WorkspaceError(
                    f"`{'/'.join(parts[:depth])}` is a symbolic link; the crew does not follow "
                    "links (use the path of the file it points to)"
                )
        if not Path(os.path.realpath(self.root.joinpath(*parts))).is_relative_to(self.root):
            raise WorkspaceError(f"{shown(path)} is outside the repository")
        return parts

    def _file_parts(self, path: str) -> tuple[str, ...]:
        parts = self._parts(path)
        if not parts:
            raise WorkspaceError("give a file path, not the repository root")
        return parts

    def _writable_parts(self, path: str) -> tuple[str, ...]:
        parts = self._file_parts(path)
        relative = "/".join(parts)
        if self.is_protected(relative):
            raise WorkspaceError(
                f"`{relative}` is a protected path: the crew may not change it ({_PROTECTED_HINT})"
            )
        return parts

    def _readable(self, parts: tuple[str, ...]) -> str:
        relative = "/".join(parts)
        if self.is_unreadable(relative):
            raise WorkspaceError(f"`{relative}` may hold secrets: the crew may not read it")
        return relative

    @contextmanager
    def _opened(
        self, parts: Sequence[str], flags: int, *, create_dirs: bool = False
    ) -> Iterator[int]:
        root_fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            fd = open_file(root_fd, parts, flags, create_dirs=create_dirs)
        finally:
            os.close(root_fd)
        try:
            yield fd
        finally:
            os.close(fd)

    # -- reading -------------------------------------------------------------------------

    def read(self, path: str, *, start_line: int | None = None, end_line: int | None = None) -> str:
        """The file's text, or lines start_line..end_line (1-based, inclusive)."""
        parts = self._file_parts(path)
        relative = self._readable(parts)
        if (start_line is not None and start_line < 1) or (end_line is not None and end_line < 1):
            raise WorkspaceError("line numbers start at 1")
        if start_line is not None and end_line is not None and end_line < start_line:
            raise WorkspaceError(f"end_line {end_line} is before start_line {start_line}")
        with self._opened(parts, os.O_RDONLY) as fd, os.fdopen(fd, "rb", closefd=False) as stream:
            if start_line is None and end_line is None:
                size = os.fstat(fd).st_size
                return text.read_whole(stream, relative, file_size=size, limit=self.max_read_bytes)
            return text.read_lines(stream, relative, start_line or 1, end_line, self.max_read_bytes)

    def _text(self, parts: tuple[str, ...], limit: int) -> str | None:
        """The whole file as text, or None if it is larger than `limit`."""
        relative = "/".join(parts)
        with self._opened(parts, os.O_RDONLY) as fd, os.fdopen(fd, "rb", closefd=False) as stream:
            data = stream.read(limit + 1)
        return None if len(data) > limit else text.decode(data, relative)

    def list_files(
        self, path: str = ".", *, pattern: str | None = None, limit: int = 500
    ) -> list[str]:
        """Relative paths of the files under `path`, sorted; at most `limit` of them.

        Ignored files are left out when the root is a git repository. A pattern without `/`
        matches file names (`*.py`); with `/`, paths from `path` or from the root.
        """
        parts = self._parts(path)
        target = self.root.joinpath(*parts)
        if not os.path.lexists(target):
            raise WorkspaceError(f"`{'/'.join(parts)}` does not exist")
        files = listing.files_under(self.root, parts) if target.is_dir() else ["/".join(parts)]
        if pattern:
            files = listing.matching(pattern, files, parts)
        return files[: max(limit, 0)]

    def search(
        self, query: str, *, path: str = ".", regex: bool = False, max_results: int = 100
    ) -> list[SearchHit]:
        """Lines containing `query` (or matching it as a regex) in the readable text files."""
        if not query:
            raise WorkspaceError("the search query is empty")
        if regex:
            try:
                matches = re.compile(query).search
            except re.error as error:
                raise WorkspaceError(f"invalid regex: {error}") from None
        else:

            def matches(line: str) -> bool:
                return query in line

        hits: list[SearchHit] = []
        for relative in self.list_files(path, limit=1 << 62):
            if self.is_unreadable(relative):
                continue
            try:
                content = self._text(split_path(relative), _SEARCH_FILE_BYTES)
            except WorkspaceError:
                continue  # links, binaries, files that vanished: nothing to search
            if content is None:
                continue  # too large to search
            for number, line in enumerate(content.split("\n"), start=1):
                if matches(line):
                    hits.append(SearchHit(relative, number, line.rstrip("\r")[:_MAX_HIT_CHARS]))
                    if len(hits) >= max_results:
                        return hits
        return hits

    # -- changing ------------------------------------------------------------------------

    def write(self, path: str, content: str) -> str:
        """Create or overwrite a file (and its parent directories)."""
        parts = self._writable_parts(path)
        existed = os.path.lexists(self.root.joinpath(*parts))
        self._write_bytes(parts, self._encode(content))
        self.touched.add("/".join(parts))
        verb = "Updated" if existed else "Created"
        return f"{verb} `{'/'.join(parts)}` ({text.lines(content)})"

    def edit(self, path: str, old: str, new: str) -> str:
        """Replace the one exact occurrence of `old` with `new`."""
        parts = self._writable_parts(path)
        relative = self._readable(parts)
        if not old:
            raise WorkspaceError("the text to replace is empty (use write to create a file)")
        if old == new:
            raise WorkspaceError("the new text is the same as the old: nothing to change")
        current = self._text(parts, self.max_write_bytes)
        if current is None:
            raise WorkspaceError(
                f"`{relative}` is over {text.size(self.max_write_bytes)}: too big to edit"
            )
        count = current.count(old)
        if count == 0 and "\r\n" in current and "\r" not in old:
            # The model often drops the \r of Windows line endings; the file keeps them.
            old, new = old.replace("\n", "\r\n"), new.replace("\n", "\r\n")
            count = current.count(old)
        if count == 0:
            raise WorkspaceError(
                f"the text to replace was not found in `{relative}`; read the file and copy "
                "the text exactly, whitespace and indentation included"
            )
        if count > 1:
            raise WorkspaceError(
                f"the text to replace occurs {count} times in `{relative}`; include more "
                "surrounding lines so that it matches exactly once"
            )
        self._write_bytes(parts, self._encode(current.replace(old, new, 1)))
        self.touched.add(relative)
        line = current[: current.index(old)].count("\n") + 1
        return f"Edited `{relative}` at line {line}"

    def delete(self, path: str) -> str:
        parts = self._writable_parts(path)
        root_fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            unlink_file(root_fd, parts)
        finally:
            os.close(root_fd)
        self.touched.add("/".join(parts))
        return f"Deleted `{'/'.join(parts)}`"

    def _encode(self, content: str) -> bytes:
        if not isinstance(content, str):
            raise WorkspaceError("the content must be text")
        try:
            data = content.encode("utf-8")
        except UnicodeEncodeError:
            raise WorkspaceError("the content is not valid Unicode text") from None
        if len(data) > self.max_write_bytes:
            limit = text.size(self.max_write_bytes)
            raise WorkspaceError(
                f"the content is {text.size(len(data))}, over the {limit} write limit; "
                "split it into smaller files"
            )
        return data

    def _write_bytes(self, parts: tuple[str, ...], data: bytes) -> None:
        relative = "/".join(parts)
        with self._opened(parts, os.O_WRONLY | os.O_CREAT, create_dirs=True) as fd:
            if os.fstat(fd).st_nlink > 1:
                # A hard link could share its content with a file outside the workspace.
                raise WorkspaceError(
                    f"`{relative}` has other hard links; the crew will not write it"
                )
            os.ftruncate(fd, 0)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
