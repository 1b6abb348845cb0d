"""Reading unified diffs: each file's hunks with their new-side line numbers, the lines GitHub
lets a review comment sit on (added and context lines of a hunk, the RIGHT side), and the
numbered text the reviewer reads (after PR-Agent, which numbers every new line it sends).

Parsing is unidiff's: it counts each hunk's lines, so a removed `-- comment` or an added
`++ x` is a line of the hunk, never mistaken for a file header.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from unidiff import PatchedFile, PatchSet
from unidiff.errors import UnidiffParseError


class DiffError(ValueError):
    """A diff that cannot be read as a unified diff."""


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "+" added, "-" removed, " " context
    text: str
    new: int | None  # the line's number on the new side (None for a removed line)


@dataclass(frozen=True)
class Hunk:
    header: str
    lines: tuple[DiffLine, ...]


@dataclass(frozen=True)
class FileDiff:
    path: str  # the new path (a deleted file's old one)
    old_path: str
    status: str  # added, deleted, renamed, modified
    added: int
    removed: int
    binary: bool
    hunks: tuple[Hunk, ...]

    @property
    def commentable(self) -> set[int]:
        """New-side numbers a review comment may sit on: added and context lines."""
        return {line.new for hunk in self.hunks for line in hunk.lines if line.new is not None}

    @property
    def label(self) -> str:
        """`path (+3 -1)`, with what happened to the file when it is not a plain edit."""
        what = {"added": ", new", "deleted": ", deleted", "renamed": f", from {self.old_path}"}
        extra = what.get(self.status, "") + (", binary" if self.binary else "")
        return f"{self.path} (+{self.added} -{self.removed}{extra})"


def parse_diff(diff: str) -> list[FileDiff]:
    """The files of a `git diff`, in its order."""
    try:
        patch = PatchSet(diff)
    except UnidiffParseError as error:
        raise DiffError(f"the diff could not be read: {error}") from error
    return [_file(patched) for patched in patch]


def _file(patched: PatchedFile) -> FileDiff:
    old, new = _path(patched.source_file), _path(patched.target_file)
    if patched.is_added_file:
        status = "added"
    elif patched.is_removed_file:
        status = "deleted"
    else:
        status = "renamed" if old and new and old != new else "modified"
    hunks = tuple(
        Hunk(
            f"@@ -{h.source_start},{h.source_length} +{h.target_start},{h.target_length} @@"
            + (f" {h.section_header}" if h.section_header else ""),
            tuple(
                DiffLine(line.line_type, line.value.rstrip("\r\n"), line.target_line_no)
                for line in h
                if line.line_type in ("+", "-", " ")
            ),
        )
        for h in patched
    )
    return FileDiff(
        path=new or old,
        old_path=old or new,
        status=status,
        added=patched.added,
        removed=patched.removed,
        binary=patched.is_binary_file,
        hunks=hunks,
    )


def _path(name: str | None) -> str:
    """A header's path without its `a/` or `b/` and git's C-style quoting ("" for /dev/null)."""
    name = (name or "").strip()
    if name.startswith('"') and name.endswith('"') and len(name) > 1:
        raw = codecs.escape_decode(name[1:-1].encode("ascii", "backslashreplace"))[0]
        name = raw.decode("utf-8", "replace")
    if name in ("", "/dev/null"):
        return ""
    return name[2:] if name[:2] in ("a/", "b/") else name


def commentable_lines(files: list[FileDiff]) -> dict[str, set[int]]:
    """Each file's new-side numbers a comment may sit on (none for a deleted or binary file)."""
    return {f.path: f.commentable for f in files}


def numbered(file: FileDiff) -> str:
    """The file's hunks with the new side's number before every line a comment may sit on.

    ```
    @@ -3,4 +3,5 @@ def parse_age(text):
      3   def parse_age(text):
        - old line
      4 + new line
    ```
    """
    width = len(str(max((line.new or 0 for h in file.hunks for line in h.lines), default=0)))
    out: list[str] = []
    for hunk in file.hunks:
        out.append(hunk.header)
        for line in hunk.lines:
            number = "" if line.new is None else str(line.new)
            out.append(f"{number:>{width}} {line.kind}{line.text}")
    return "\n".join(out)


def ranges(lines: set[int]) -> str:
    """`3-9, 14, 20-22`: a set of line numbers as runs."""
    runs: list[tuple[int, int]] = []
    for n in sorted(lines):
        if runs and n == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs) or "none"
