"""Where a test broke, as a path relative to the repository and a line: from the paths and the
JavaScript stack frames that reports print.

Reports name files as the runner saw them: relative (pytest, vitest, jest's `file`), or
absolute under the directory the tests ran in (node's runner, mocha, tape). `root` is that
directory; a path outside it (node's internals, `node_modules`, the interpreter) is not the
repository's and gives no annotation.
"""

from __future__ import annotations

import posixpath
import re

# "at fn (/repo/test/a.test.js:9:12)", "at /repo/a.js:3:1", "❯ test/a.test.js:8:19",
# "file:///repo/a.test.mjs:2:5": a script path, a line, and a column.
SCRIPT = r"\.(?:[cm]?[jt]sx?|vue|svelte)"
FRAME = re.compile(rf"(?:file://)?(?P<path>[^\s()'\"`]+?{SCRIPT}):(?P<line>\d+)(?::\d+)?")


def relative(path: str, root: str = "") -> str | None:
    """`path` relative to the repository at `root`, or None when it lies outside it."""
    path = path.strip()
    if path.startswith("file://"):
        path = path.removeprefix("file://")
    if path.startswith("/"):
        base = root.rstrip("/")
        if not base or not path.startswith(base + "/"):
            return None
        path = path[len(base) + 1 :]
    path = posixpath.normpath(path)
    if path.startswith("..") or path == "." or _outside(path):
        return None
    return path


def _outside(path: str) -> bool:
    """A library's or the runtime's file, never the repository's own code."""
    parts = path.split("/")
    return path.startswith("node:") or "node_modules" in parts or "site-packages" in parts


def as_repo_path(path: str, root: str = "") -> str:
    """A file a report names, relative when it lies under `root`; else as given (an id must
    still say which file, even one outside the repository)."""
    return relative(path, root) or path.strip()


def is_script(path: str) -> bool:
    """A JavaScript or TypeScript file's name (a test file that failed to load)."""
    return re.fullmatch(rf"[^\s]+{SCRIPT}", path) is not None


def first_frame(text: str, root: str = "") -> tuple[str, int] | None:
    """The first stack frame in the repository's own code: where to annotate a JS failure."""
    for match in FRAME.finditer(text):
        path = relative(match["path"], root)
        if path is not None:
            return path, int(match["line"])
    return None
