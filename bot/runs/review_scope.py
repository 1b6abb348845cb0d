"""What a review of a person's pull request covers: files the repository asked to leave out
are dropped, and past the size cap (files, changed lines) the riskiest files are kept.

Risk, highest first: a path that touches security (auth, secrets, crypto, permissions, SQL,
CI workflows, containers, dependency manifests); then code; then tests; then docs and other
text; lockfiles and generated files last. Within a rank, the bigger change first. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from bot.roster.globs import GlobSet
from bot.runs.diff import FileDiff
from bot.runs.review_diff import GENERATED_SUFFIXES, LOCKFILES

SENSITIVE = re.compile(
    r"auth|login|passw|secret|token|credential|crypt|session|permission|access|acl|sql|"
    r"security|oauth|jwt|cookie|csrf|sanit|\.github/workflows/|dockerfile|"
    r"(^|/)(requirements[^/]*\.txt|pyproject\.toml|package\.json|setup\.(py|cfg)|go\.mod)$",
    re.IGNORECASE,
)
CODE_SUFFIXES = frozenset(
    ".py .js .mjs .cjs .ts .tsx .jsx .go .rs .java .kt .rb .php .c .h .cc .cpp .hpp .cs "
    ".swift .scala .sh .bash .sql .lua .pl .ex .exs".split()
)
DOC_SUFFIXES = frozenset(".md .rst .txt .adoc .html .css .svg .png .jpg .gif .csv".split())
RANKS = ("security-sensitive", "code", "tests", "other", "docs", "lockfile or generated")


@dataclass(frozen=True)
class Scope:
    """The files a review reads, those the repository left out, and those past the cap."""

    files: tuple[FileDiff, ...]
    ignored: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()  # labels: `path (+a -r)`, riskiest first
    capped_by: str = ""  # "" or what cap was reached, said in the summary


def rank(file: FileDiff) -> int:
    """The file's place in RANKS (lower: riskier)."""
    path = PurePosixPath(file.path)
    suffix = path.suffix.lower()
    if path.name in LOCKFILES or file.path.endswith(GENERATED_SUFFIXES):
        return RANKS.index("lockfile or generated")
    if SENSITIVE.search(file.path):
        return RANKS.index("security-sensitive")
    if any(part in ("test", "tests", "spec", "__tests__") for part in path.parts[:-1]) or (
        path.name.startswith("test_") or ".test." in path.name or ".spec." in path.name
    ):
        return RANKS.index("tests")
    if suffix in CODE_SUFFIXES:
        return RANKS.index("code")
    if suffix in DOC_SUFFIXES or path.parts[0].lower() in ("docs", "doc"):
        return RANKS.index("docs")
    return RANKS.index("other")


def riskiest_first(files: Sequence[FileDiff]) -> list[FileDiff]:
    return sorted(files, key=lambda f: (rank(f), -(f.added + f.removed), f.path))


def scope(
    files: Sequence[FileDiff], *, ignore: Sequence[str], max_files: int, max_lines: int
) -> Scope:
    """The files to review: the ignored ones out, then within `max_files` and `max_lines`
    (the riskiest first; the first is always kept, whatever its size; lockfiles and generated
    files, only listed to the reviewer, are kept and not counted)."""
    globs = GlobSet(ignore)
    kept = [f for f in files if not (ignore and globs.matches(f.path))]
    ignored = tuple(f.path for f in files if f not in kept)
    # Lockfiles and generated files are only listed to the reviewer: they cost no reading.
    listed = [f for f in kept if rank(f) == RANKS.index("lockfile or generated")]
    read = [f for f in kept if f not in listed]
    total = sum(f.added + f.removed for f in read)
    if len(read) <= max_files and total <= max_lines:
        return Scope(tuple(kept), ignored)
    chosen: list[FileDiff] = list(listed)
    lines = 0
    for file in riskiest_first(read):
        size = file.added + file.removed
        taken = len(chosen) - len(listed)
        if taken and (taken >= max_files or lines + size > max_lines):
            continue
        chosen.append(file)
        lines += size
    skipped = tuple(f.label for f in riskiest_first(read) if f not in chosen)
    cap = f"{len(read)} files, {total} changed lines (cap: {max_files} files, {max_lines} lines)"
    order = {f.path: n for n, f in enumerate(kept)}
    return Scope(tuple(sorted(chosen, key=lambda f: order[f.path])), ignored, skipped, cap)
