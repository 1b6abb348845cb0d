"""The change so far, as the `git_diff` tool shows it: the workspace (edits not yet committed
and new files included) against where the branch left the base, capped for the model.

Git runs on the host with the repository's diff drivers and text conversions off, and the path
is taken literally (no pathspec magic), so a repository cannot make this run its code.
"""

from __future__ import annotations

from pathlib import Path

from bot.workspace.gitcli import run_git
from bot.workspace.paths import WorkspaceError

MAX_DIFF_CHARS = 24_000
_DIFF = ("--literal-pathspecs", "diff", "--no-color", "--no-ext-diff", "--no-textconv")


def change_diff(
    root: Path, base: str, path: str | None = None, *, limit: int = MAX_DIFF_CHARS
) -> str:
    """`git diff` of the workspace at `root` against the merge base of `base` and HEAD (one
    `path` if given); past `limit` characters, the files with their +/- and the diff's start."""
    paths = [_relative(path)] if path else []
    since = run_git(["merge-base", base, "HEAD"], cwd=root).stdout.strip()
    tracked = _git(root, [*_DIFF, since, "--", *paths])
    new = [
        name
        for name in _git(
            root,
            [
                "--literal-pathspecs",
                "ls-files",
                "-z",
                "--others",
                "--exclude-standard",
                "--",
                *paths,
            ],
        ).split("\0")
        if name
    ]
    added = [_git(root, [*_DIFF, "--no-index", "--", "/dev/null", name], ok=(0, 1)) for name in new]
    text = tracked + "".join(added)
    if not text:
        where = f" in `{path}`" if path else ""
        return f"(no changes{where} against the base)"
    if len(text) <= limit:
        return text
    counts = _git(root, ["--literal-pathspecs", "diff", "--numstat", since, "--", *paths])
    listing = [_numstat_line(line) for line in counts.splitlines() if line]
    listing += [f"{name} (new file)" for name in new]
    note = (
        f"[the diff is {len(text)} characters, over the {limit} shown: it is cut below. "
        "Ask git_diff for one path to see a file whole. Files changed (+added/-removed):]\n"
    )
    shown = "\n".join(listing) + "\n\n"
    room = max(limit - len(note) - len(shown), 0)
    return f"{note}{shown}{text[:room]}\n[… {len(text) - room} characters cut]"


def _numstat_line(line: str) -> str:
    added, removed, name = (line.split("\t", 2) + ["", ""])[:3]
    return f"{name} (+{added}/-{removed})"


def _relative(path: str) -> str:
    """A repository-relative path: nothing absolute, nothing above the root, no option."""
    parts = [part for part in path.replace("\\", "/").split("/") if part not in ("", ".")]
    if path.startswith("/") or ".." in parts or not parts or parts[0].startswith("-"):
        raise WorkspaceError(f"`{path}` is not a path inside the repository")
    return "/".join(parts)


def _git(root: Path, args: list[str], ok: tuple[int, ...] = (0,)) -> str:
    return run_git(args, cwd=root, ok=ok).stdout
