"""Built environments, kept outside any workspace and keyed by what they depend on.

An entry is a folder named by its key holding what a set-up produced (`.venv/`, `node_modules/`,
…, under their paths in the repository) and `entry.json` saying which paths those are. It is
complete or absent: a build happens in a staging folder renamed into place at the end, one
builder per key at a time (a lock file). Later runs only read it. Entries unused for longer
than the age limit go first, then the least recently used until the total fits the size limit.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.file_locks import file_lock

ENTRY = "entry.json"
FORMAT = 1  # bumped when the layout of an entry changes: older entries are rebuilt


@dataclass(frozen=True)
class CachedEnvironment:
    key: str
    root: Path  # the entry's folder
    paths: tuple[str, ...]  # repository-relative paths the set-up produced, under `root`

    def mounts(self) -> list[tuple[Path, str]]:
        """(host path in the cache, repository-relative path) of each produced path."""
        return [(self.root / path, path) for path in self.paths]


class EnvironmentCache:
    def __init__(self, root: Path, *, max_age_seconds: float, max_bytes: int) -> None:
        self.root = root
        self.max_age_seconds = max_age_seconds
        self.max_bytes = max_bytes

    def get(self, key: str) -> CachedEnvironment | None:
        """The complete entry for `key` (its use is recorded), or None."""
        folder = self.root / key
        try:
            entry = json.loads((folder / ENTRY).read_text())
        except (OSError, ValueError):
            return None
        if entry.get("format") != FORMAT:
            return None
        os.utime(folder / ENTRY)  # last used: what eviction goes by
        return CachedEnvironment(key, folder, tuple(entry["paths"]))

    @contextmanager
    def building(self, key: str) -> Iterator[Path]:
        """A staging folder for `key`'s build, held under the key's lock; `commit` puts it in
        place. Leaving without a commit (a failed set-up) discards it."""
        self.root.mkdir(parents=True, exist_ok=True)
        with file_lock(self.root / f".{key}.lock", wait=True):
            staging = self.root / f".staging-{key[:16]}-{uuid.uuid4().hex[:8]}"
            staging.mkdir()
            try:
                yield staging
            finally:
                shutil.rmtree(staging, ignore_errors=True)

    def commit(self, key: str, staging: Path, paths: Sequence[str]) -> CachedEnvironment:
        """Make a staging folder the entry for `key` (replacing a stale one), then evict what
        no longer fits; call it inside `building(key)`."""
        size = _size(staging)
        if size > self.max_bytes:
            raise OSError(
                f"the environment ({size} bytes) is larger than the cache's size limit "
                f"({self.max_bytes} bytes): raise REPOCREW_ENV_CACHE_MAX_MB"
            )
        (staging / ENTRY).write_text(json.dumps({"format": FORMAT, "paths": list(paths)}))
        target = self.root / key
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
        self.evict(keep=key)
        return CachedEnvironment(key, target, tuple(paths))

    def evict(self, *, now: float | None = None, keep: str | None = None) -> list[str]:
        """Drop entries unused past the age limit, then the least recently used over the size
        limit; returns the keys dropped. `keep` (being committed) and entries another process
        holds the lock of (being built or replaced) are left alone."""
        now = time.time() if now is None else now
        entries = sorted((_used(folder), folder) for folder in self._entries())
        dropped, total = [], sum(_size(folder) for _used_at, folder in entries)
        for used_at, folder in entries:
            if folder.name == keep:
                continue
            if now - used_at <= self.max_age_seconds and total <= self.max_bytes:
                continue
            with file_lock(self.root / f".{folder.name}.lock", wait=False) as held:
                if not held:
                    continue
                total -= _size(folder)
                shutil.rmtree(folder, ignore_errors=True)
            dropped.append(folder.name)
        return dropped

    def _entries(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return [p for p in self.root.iterdir() if p.is_dir() and (p / ENTRY).is_file()]


def _used(folder: Path) -> float:
    return (folder / ENTRY).stat().st_mtime


def _size(folder: Path) -> int:
    total = 0
    for directory, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(directory, name)).st_size
            except OSError:
                pass
    return total
