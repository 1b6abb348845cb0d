"""A repository's `.repocrew.toml` that raises the operator's limits: refused on the issue,
through the real webhook path, and no run starts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fault_world import fault_world, start_run, wait_until
from tests.support.world import World

RAISING = """
[budgets]
run_usd = 40
run_tokens = 10000000

[roles.coder]
max_turns = 400
tools = ["read_file", "write_file", "run_tests", "web_search"]

[review]
may_approve = true
"""


@pytest.fixture
def world(tmp_path) -> Iterator[World]:
    with fault_world(tmp_path) as world:
        yield world


def test_a_repository_that_raises_limits_is_refused_on_the_issue(world):
    issue = start_run(world, {".repocrew.toml": RAISING})

    said = wait_until(
        lambda: [c.body for c in issue.get_comments() if "did not start" in c.body],
        "the refusal on the issue",
    )[0]
    assert "`.repocrew.toml` is invalid" in said
    never = "a repository may lower this, never raise it"
    for line in (
        f"budgets.run_usd: {never} (crew.toml: 5.0; here: 40.0)",
        f"roles.coder.max_turns: {never} (crew.toml: 40; here: 400)",
        f"roles.coder.tools: {never}: the operator's coder has no `web_search`",
        f"review.may_approve: {never} (crew.toml: false; here: true)",
    ):
        assert line in said, said
    assert world.runs() == []
