"""A repository's `.repocrew.toml` text, read from GitHub once per push.

Every webhook payload names its repository's `pushed_at`, which moves with every push (the
file lives on the default branch, so changing it is a push). A label event on a busy repository
then costs no GitHub request to learn the label is not the crew's trigger.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class RepoConfigs:
    """The config text of each repository as of a `pushed_at`; the least recently read go
    first past `max_repos`."""

    def __init__(self, max_repos: int = 1024) -> None:
        self.max_repos = max_repos
        self._texts: dict[str, tuple[str, str | None]] = {}
        self._lock = threading.Lock()

    def text(self, repo: str, pushed_at: object, read: Callable[[], str | None]) -> str | None:
        """The text as of `pushed_at`; `read()` fetches it when this version is not known
        (always, when the payload gave no `pushed_at`)."""
        version = "" if pushed_at is None else str(pushed_at)
        key = repo.lower()
        with self._lock:
            cached = self._texts.pop(key, None)
            if cached is not None and version and cached[0] == version:
                self._texts[key] = cached  # now the most recently read
                return cached[1]
        text = read()
        if version:
            with self._lock:
                self._texts[key] = (version, text)
                while len(self._texts) > self.max_repos:
                    self._texts.pop(next(iter(self._texts)))
        return text
