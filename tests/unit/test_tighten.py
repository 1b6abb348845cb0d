"""A repository's .repocrew.toml lowers the operator's limits, never raises them."""

from __future__ import annotations

import pytest

from bot.roster.loader import ConfigError, apply_repo_overrides, load_crew, parse_crew, roster_text


@pytest.mark.parametrize(
    "text, key",
    [
        ("[budgets]\nrun_usd = 6\n", "budgets.run_usd"),
        ("[budgets]\nday_usd = 51\n", "budgets.day_usd"),
        ("[tests]\nwall_seconds = 601\n", "tests.wall_seconds"),
        ("[tests]\ncpu_seconds = 301\n", "tests.cpu_seconds"),
        ("[tests]\nmemory_mb = 4096\n", "tests.memory_mb"),
        ("[review]\nmax_diff_bytes = 600000\n", "review.max_diff_bytes"),
        ("[review]\nmay_approve = true\n", "review.may_approve"),
        ("[research]\nweb_search = true\n", "research.web_search"),
        ("[research]\nmax_searches = 50\n", "research.max_searches"),
        ("[roles.coder]\nmax_turns = 41\n", "roles.coder.max_turns"),
        ("[roles.planner]\nmax_tokens = 16384\n", "roles.planner.max_tokens"),
        ('[roles.reviewer]\ntools = ["read_file", "write_file"]\n', "roles.reviewer.tools"),
        ('[steps]\nreview = "coder"\n', "steps.review"),
    ],
)
def test_a_raise_is_refused_naming_the_key_and_both_values(text, key):
    with pytest.raises(ConfigError) as caught:
        apply_repo_overrides(load_crew(None), "\n" + text)
    message = str(caught.value)
    assert message.startswith(f".repocrew.toml:3: {key}: a repository may lower this, never raise")


def test_lowering_is_fine():
    text = """
[budgets]
run_usd = 1
run_tokens = 100000

[tests]
wall_seconds = 60

[roles.coder]
max_turns = 10
tools = ["read_file", "write_file", "run_tests"]

[steps]
research = "planner"
"""
    merged = apply_repo_overrides(load_crew(None), text)
    assert merged.budgets.run_usd == 1 and merged.budgets.run_tokens == 100000
    assert merged.roles["coder"].tools == ("read_file", "write_file", "run_tests")


def test_a_token_limit_cannot_be_lifted_and_a_new_role_counts_against_the_largest():
    crew = apply_repo_overrides(load_crew(None), "[budgets]\nrun_tokens = 1000\n")
    with pytest.raises(ConfigError, match=r"run_tokens: .*\(crew.toml: 1000; here: 2000\)"):
        apply_repo_overrides(crew, "[budgets]\nrun_tokens = 2000\n")
    new_role = """
[roles.intern]
name = "Intern"
job = "Learns."
max_turns = 99
tools = ["read_file", "web_search"]
github = {author_name = "Intern", author_email = "intern@example.com", header = "Intern"}
slack = {username = "Intern"}
"""
    with pytest.raises(ConfigError) as caught:
        apply_repo_overrides(load_crew(None), new_role)
    assert "roles.intern.max_turns" in str(caught.value)
    assert "roles.intern.tools" in str(caught.value) and "`web_search`" in str(caught.value)


def test_a_step_moved_to_a_role_with_more_rights_is_refused():
    team = parse_crew(roster_text("product-team"), source="product-team.toml")
    devops = next(key for key, role in team.roles.items() if role.may_edit)
    code_role = team.steps["code"]
    assert code_role != devops
    with pytest.raises(ConfigError, match="protected paths it may change"):
        apply_repo_overrides(team, f'[steps]\ncode = "{devops}"\n')
