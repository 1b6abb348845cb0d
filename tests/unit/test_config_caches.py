"""The crew file is parsed once per version of it; a repository's config is read once per push."""

from __future__ import annotations

import os

from bot.roster.loader import load_crew, roster_text
from bot.roster.repo_configs import RepoConfigs


def _roster(label: str) -> str:
    """The packaged default roster with its own trigger label."""
    return roster_text("default").replace('trigger_label = "crew"', f'trigger_label = "{label}"')


def test_the_crew_file_is_read_again_once_it_changes(tmp_path):
    crew_file = tmp_path / "crew.toml"
    crew_file.write_text(_roster("first"))
    assert load_crew(crew_file).trigger_label == "first"
    crew_file.write_text(_roster("second"))
    stat = crew_file.stat()
    os.utime(crew_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # coarse clocks
    assert load_crew(crew_file).trigger_label == "second"


def test_each_caller_gets_its_own_crew(tmp_path):
    crew_file = tmp_path / "crew.toml"
    crew_file.write_text(_roster("mine"))
    first = load_crew(crew_file)
    first.roles.clear()  # the model is frozen, its tables are not
    assert load_crew(crew_file).roles


def test_a_repository_config_is_read_once_per_push():
    configs = RepoConfigs()
    reads: list[str] = []

    def read(text: str):
        return lambda: reads.append(text) or text

    assert configs.text("o/r", "2024-01-01T00:00:00Z", read("a")) == "a"
    assert configs.text("O/R", "2024-01-01T00:00:00Z", read("b")) == "a"  # same push: cached
    assert configs.text("o/r", "2024-01-02T00:00:00Z", read("c")) == "c"  # a push: read again
    assert configs.text("o/r", None, read("d")) == "d"  # no pushed_at: always read
    assert reads == ["a", "c", "d"]


def test_the_least_recently_read_repository_goes_first():
    configs = RepoConfigs(max_repos=2)
    configs.text("a/a", 1, lambda: "a")
    configs.text("b/b", 1, lambda: "b")
    configs.text("a/a", 1, lambda: "never read")  # a is now the most recent
    configs.text("c/c", 1, lambda: "c")  # b goes
    assert configs.text("a/a", 1, lambda: "read again") == "a"
    assert configs.text("b/b", 1, lambda: "read again") == "read again"
