"""The per-repository bound on a sprint's parallel runs: the operator's crew file sets it, a
repository's `.repocrew.toml` may lower it, never raise it."""

from __future__ import annotations

import pytest

from bot.roster.loader import ConfigError, apply_repo_overrides, parse_crew, roster_text


def _crew(extra: str = ""):
    return parse_crew(roster_text("default") + extra, source="crew.toml")


def test_the_bound_defaults_to_two_and_the_operator_sets_it():
    assert _crew().sprint.max_parallel_runs == 2
    assert _crew("\n[sprint]\nmax_parallel_runs = 4\n").sprint.max_parallel_runs == 4


def test_a_repository_may_lower_the_bound():
    crew = _crew("\n[sprint]\nmax_parallel_runs = 4\n")
    lowered = apply_repo_overrides(
        crew, "[sprint]\nmax_parallel_runs = 1\n", source=".repocrew.toml"
    )
    assert lowered.sprint.max_parallel_runs == 1


def test_a_repository_may_not_raise_the_bound():
    with pytest.raises(ConfigError, match="max_parallel_runs"):
        apply_repo_overrides(_crew(), "[sprint]\nmax_parallel_runs = 9\n", source=".repocrew.toml")
