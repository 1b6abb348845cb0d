"""The environment cache: complete entries only, one builder per key, eviction by age and size."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from bot.environments.cache import EnvironmentCache


def _build(cache: EnvironmentCache, key: str, size: int = 10):
    with cache.building(key) as staging:
        venv = staging / ".venv" / "bin"
        venv.mkdir(parents=True)
        (venv / "python").write_bytes(b"x" * size)
        return cache.commit(key, staging, [".venv"])


def test_a_committed_entry_is_found_with_its_paths(tmp_path):
    cache = EnvironmentCache(tmp_path / "envs", max_age_seconds=3600, max_bytes=10_000)
    assert cache.get("k1") is None
    entry = _build(cache, "k1")
    found = cache.get("k1")
    assert found == entry and found.paths == (".venv",)
    assert found.mounts() == [(tmp_path / "envs" / "k1" / ".venv", ".venv")]
    assert (found.root / ".venv" / "bin" / "python").read_bytes() == b"x" * 10


def test_a_build_that_fails_leaves_nothing(tmp_path):
    cache = EnvironmentCache(tmp_path / "envs", max_age_seconds=3600, max_bytes=10_000)
    with pytest.raises(RuntimeError), cache.building("k1") as staging:
        (staging / "half").write_text("done halfway")
        raise RuntimeError("set-up failed")
    assert cache.get("k1") is None
    assert [p.name for p in (tmp_path / "envs").iterdir() if not p.name.endswith(".lock")] == []


def test_entries_unused_too_long_go_first(tmp_path):
    cache = EnvironmentCache(tmp_path / "envs", max_age_seconds=100, max_bytes=10_000)
    _build(cache, "old")
    _build(cache, "new")
    long_ago = time.time() - 1000
    os.utime(tmp_path / "envs" / "old" / "entry.json", (long_ago, long_ago))
    assert cache.evict() == ["old"]
    assert cache.evict() == []
    assert cache.get("old") is None and cache.get("new") is not None


def test_over_the_size_limit_the_least_recently_used_go(tmp_path):
    cache = EnvironmentCache(tmp_path / "envs", max_age_seconds=3600, max_bytes=10_000)
    for index, key in enumerate(("a", "b", "c")):
        _build(cache, key, size=1000)
        stamp = time.time() - 100 + index  # a, then b, then c were used last
        os.utime(tmp_path / "envs" / key / "entry.json", (stamp, stamp))
    cache.get("a")  # a is used again: b is now the least recently used, then c
    cache.max_bytes = 2_500  # room for two
    _build(cache, "d", size=1000)
    kept = sorted(p.name for p in (tmp_path / "envs").iterdir() if (p / "entry.json").exists())
    assert kept == ["a", "d"]
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("d") is not None


def test_a_limit_below_one_entry_is_an_error_that_says_so(tmp_path):
    cache = EnvironmentCache(tmp_path / "envs", max_age_seconds=3600, max_bytes=5)
    with pytest.raises(OSError, match="size limit"):
        _build(cache, "big", size=100)
    assert cache.get("big") is None


def test_an_entry_of_another_format_is_rebuilt(tmp_path: Path):
    cache = EnvironmentCache(tmp_path / "envs", max_age_seconds=3600, max_bytes=10_000)
    _build(cache, "k1")
    (tmp_path / "envs" / "k1" / "entry.json").write_text('{"format": 0, "paths": [".venv"]}')
    assert cache.get("k1") is None
