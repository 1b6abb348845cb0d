"""Globs of protected and unreadable paths, as .gitignore lines (pathspec's gitwildmatch).

A roster's `protected_paths` are checked here when it loads, and the workspace matches every
path the model names against them.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections.abc import Iterable

from anyascii import anyascii
from pathspec import GitIgnoreSpec
from pathspec.patterns.gitignore import GitIgnorePatternError
from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern


class GlobError(ValueError):
    """A glob that cannot be used; str() says why and what to write instead."""


def glob_pattern(pattern: str, *, ignore_case: bool) -> GitIgnoreSpecPattern:
    """One .gitignore line, compiled; GlobError for a line that would silently match nothing.

    Git ignores a blank line, a `#` comment or an unclosed `[`; a protected path written so
    would protect nothing, so it is refused. So is `!`: a list of protected paths only adds.
    """
    if pattern != pattern.strip():
        raise GlobError(f"{pattern!r}: remove the spaces around the pattern")
    try:
        regex, include = GitIgnoreSpecPattern.pattern_to_regex(pattern)
        flags = re.IGNORECASE if ignore_case else 0
        compiled = None if regex is None else re.compile(regex, flags)
    except (re.error, GitIgnorePatternError) as error:
        reason = getattr(error, "msg", error)  # re.error's msg leaves out a regex position
        raise GlobError(f"{pattern!r} is not a valid glob: {reason}") from None
    if compiled is None or include is None:
        raise GlobError(
            f"{pattern!r} matches nothing (a blank line, a `#` comment or an unclosed `[`; "
            "write `\\#` or `\\[` for a name that has one)"
        )
    if not include:
        raise GlobError(
            f"{pattern!r}: `!` cannot take paths back out here; list only what to match "
            "(write `\\!` for a name that starts with !)"
        )
    return GitIgnoreSpecPattern(compiled, include)


def _with_entry(pattern: str) -> list[str]:
    """`d/**` and `d/` name what is in `d`; protect the entry `d` too.

    Git would leave `d` itself alone, but a `.git` *file* (a worktree's link) is as dangerous
    as the directory. `d/**` is anchored at the top by its inner `/`; its entry `/d` stays so.
    """
    entry = pattern.rstrip("/").removesuffix("/**")
    if entry == pattern or not entry.strip("*/"):
        return [pattern]
    anchored = "/" in pattern.rstrip("/")
    return [pattern, f"/{entry}" if anchored and "/" not in entry else entry]


class GlobSet:
    """Paths matched case-insensitively, so `.GitHub/Workflows/x.yml` is caught on any disk.

    The globs are .gitignore lines: one without `/` matches at any depth (`.env` also
    protects `app/.env`), one that names a directory covers everything in it, and `**/x`
    matches `x` at the top. `!` is refused, so no glob takes back what another protects.
    """

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(patterns)
        compiled = [
            glob_pattern(line, ignore_case=True)
            for pattern in self.patterns
            for line in _with_entry(pattern)
        ]
        # The simple backend uses the compiled regexes as they are, IGNORECASE included.
        self._spec = GitIgnoreSpec(compiled, backend="simple")

    def matches(self, relative: str) -> bool:
        """Whether any spelling of the path matches (`spellings`)."""
        return any(self._spec.match_file(path) for path in spellings(relative))


def spellings(relative: str) -> set[str]:
    """The names a path may stand for: as given, tidied (backslashes as `/`, `.` `..` and `//`
    resolved, trailing dots and spaces dropped as Windows does, an NTFS `:stream` cut off), and
    folded (NFKC, invisible characters removed, look-alike letters as ASCII: `.\u0435nv` is
    `.env`). Matching all of them only ever protects more.
    """
    tidied = _tidy(relative)
    folded = unicodedata.normalize("NFKC", tidied)
    folded = "".join(c for c in folded if unicodedata.category(c) not in ("Cf", "Mn", "Cc"))
    found = {tidied, _tidy(folded), _tidy(anyascii(folded))}
    found |= {_tidy("/".join(part.split(":")[0] for part in path.split("/"))) for path in found}
    return {path for path in found if path}


def _tidy(path: str) -> str:
    parts: list[str] = []
    for part in path.replace("\\", "/").split("/"):
        part = part.rstrip(" .") if part.strip(".") else part.strip()
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return posixpath.join(*parts) if parts else ""
