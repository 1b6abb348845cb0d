"""The crew's roster: packaged rosters, validation errors with file:line:key, repo overrides."""

from __future__ import annotations

import re

import pytest

from bot.roster.loader import (
    ROSTERS,
    ConfigError,
    apply_repo_overrides,
    load_crew,
    parse_crew,
    roster_text,
)
from bot.roster.models import DEFAULT_PRICES, STEPS, TOOLS, Crew
from bot.roster.toml_lines import key_lines
from tests.conftest import REPO

DEFAULT = roster_text("default")


def _line_of(text: str, needle: str, after: str = "") -> int:
    """The 1-based line of the first `needle` after the line holding `after`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines) if i >= start and needle in line) + 1


def _error(text: str, source: str = "crew.toml") -> str:
    with pytest.raises(ConfigError) as caught:
        parse_crew(text, source=source)
    return str(caught.value)


def _edit(old: str, new: str, *, after: str = "", text: str = DEFAULT) -> str:
    """The roster with the first `old` after the line holding `after` replaced by `new`."""
    cut = text.index(after) if after else 0
    assert old in text[cut:]
    return text[:cut] + text[cut:].replace(old, new, 1)


@pytest.mark.parametrize("name", ROSTERS)
def test_every_packaged_roster_loads_and_is_complete(name):
    crew = parse_crew(roster_text(name), source=f"{name}.toml")
    assert crew.name == name
    assert set(crew.steps) == set(STEPS)
    assert crew.lead in crew.roles and crew.voting_roles
    for key, role in crew.roles.items():
        assert role.key == key and role.prompt == key
        assert set(role.tools) <= set(TOOLS)
        assert role.github.author_email.endswith(".invalid")  # clearly not a real address
        assert role.model != "claude-opus-4-5"
    roles = crew.roles.values()
    assert (
        len({r.slack.icon_emoji for r in roles})
        == len({r.github.header for r in roles})
        == len(crew.roles)
    )
    assert crew.roles[crew.lead].model == "claude-haiku-4-5"
    assert crew.protected_paths == ()  # the built-in set needs no repeating
    assert {model: (p.input, p.output) for model, p in crew.prices.items()} == {
        model: (p["input"], p["output"]) for model, p in DEFAULT_PRICES.items()
    }


def test_the_default_roster_is_the_six_classic_roles():
    crew = load_crew(None)
    assert list(crew.roles) == ["planner", "researcher", "coder", "reviewer", "tester", "lead"]
    assert [crew.role_for(step).key for step in STEPS] == [
        "planner",
        "researcher",
        "coder",
        "reviewer",
        "coder",
        "tester",
    ]
    assert (
        "write_file" in crew.roles["coder"].tools
        and "write_file" not in crew.roles["reviewer"].tools
    )
    assert crew.votes_needed == 5 and "lead" not in [r.key for r in crew.voting_roles]


def test_the_product_team_maps_steps_to_architect_developer_and_devops():
    crew = parse_crew(roster_text("product-team"), source="crew.toml")
    assert crew.steps == {
        "plan": "architect",
        "research": "architect",
        "code": "developer",
        "review": "architect",
        "fix": "developer",
        "test": "devops",
    }
    assert crew.lead == "ceo"
    assert crew.roles["devops"].may_edit == (".github/workflows/**",)
    assert "docs/**" in crew.roles["marketing"].owns


def test_a_missing_crew_file_means_the_default_roster(tmp_path):
    assert load_crew(tmp_path / "absent.toml") == load_crew(None)
    path = tmp_path / "crew.toml"
    path.write_text(roster_text("product-team"))
    assert load_crew(path).name == "product-team"


def test_a_broken_crew_file_is_named_in_the_error(tmp_path):
    path = tmp_path / "crew.toml"
    path.write_text(_edit('lead = "lead"', 'lead = "boss"'))
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(path))}:\d+: lead: unknown role"):
        load_crew(path)


def test_a_role_can_be_renamed_and_given_a_step():
    text = DEFAULT.replace("roles.planner", "roles.architect").replace(
        'plan = "planner"', 'plan = "architect"'
    )
    crew = parse_crew(text, source="crew.toml")
    assert crew.role_for("plan").key == "architect"
    assert "planner" not in crew.roles


def test_a_role_can_be_added():
    text = DEFAULT + (
        '\n[roles.security]\nname = "Security"\njob = "Audits."\nvotes = false\n'
        '[roles.security.github]\nauthor_name = "sec"\nauthor_email = "sec@x.invalid"\n'
        'header = "🛡️ **Security**"\n[roles.security.slack]\nusername = "Security"\n'
    )
    role = parse_crew(text, source="crew.toml").roles["security"]
    assert (role.prompt, role.model, role.max_tokens, role.tools) == (
        "security",
        "claude-sonnet-4-6",
        8192,
        (),
    )


def test_a_typo_names_file_line_and_key_and_suggests_the_field():
    text = _edit("max_tokens = 16384", "max_tokns = 16384", after="[roles.coder]")
    line = _line_of(text, "max_tokns")
    assert _error(text) == (
        f"crew.toml:{line}: roles.coder.max_tokns: unknown key; did you mean 'max_tokens'?"
    )


def test_a_wrong_type_names_the_key():
    text = _edit("max_turns = 40", 'max_turns = "many"', after="[roles.coder]")
    line = _line_of(text, '"many"')
    assert _error(text).startswith(f"crew.toml:{line}: roles.coder.max_turns: must be a valid")


def test_a_negative_budget_names_the_key():
    text = _edit("run_usd = 5.0", "run_usd = -1.0")
    line = _line_of(text, "run_usd = -1.0")
    assert _error(text) == f"crew.toml:{line}: budgets.run_usd: must be greater than 0 (got -1.0)"


def test_a_step_mapped_to_an_unknown_role():
    text = _edit('test = "tester"', 'test = "qa"')
    line = _line_of(text, 'test = "qa"')
    assert _error(text).startswith(f"crew.toml:{line}: steps.test: unknown role 'qa' (roles: ")


def test_a_role_model_without_a_price():
    text = _edit('model = "claude-sonnet-4-6"', 'model = "claude-next"', after="[roles.coder]")
    line = _line_of(text, "claude-next")
    assert _error(text) == (
        f"crew.toml:{line}: roles.coder.model: no price for 'claude-next';"
        ' add [prices."claude-next"]'
    )


def test_a_dated_model_id_takes_its_alias_price():
    text = _edit('model = "claude-haiku-4-5"', 'model = "claude-haiku-4-5-20251001"')
    crew = parse_crew(text, source="crew.toml")
    assert crew.price_for(crew.roles["lead"].model) == crew.prices["claude-haiku-4-5"]


def test_a_toml_syntax_error_gives_the_parsers_line():
    text = _edit('job = "Writes', "job = Writes", after="[roles.coder]")
    line = _line_of(text, "job = Writes")
    assert _error(text).startswith(f"crew.toml:{line}: TOML syntax: ")


def test_a_missing_required_key_names_its_table():
    text = _edit("job = ", "# job = ", after="[roles.coder]")
    line = _line_of(text, "[roles.coder]")
    assert _error(text) == f"crew.toml:{line}: roles.coder.job: required key is missing"


@pytest.mark.parametrize(
    ("old", "new", "key", "message"),
    [
        ('lead = "lead"', 'lead = "boss"', "lead", "unknown role 'boss'"),
        ("# voters = [", 'voters = ["reviewer", "qa"] #', "voters[1]", "unknown role 'qa'"),
        ('vote_threshold = "all"', "vote_threshold = 9", "vote_threshold", "between 1 and the 5"),
        ('vote_threshold = "all"', "vote_threshold = 1.5", "vote_threshold", "at most 1"),
        ('vote_threshold = "all"', 'vote_threshold = "most"', "vote_threshold", 'must be "all"'),
        ('plan = "planner"', 'plann = "planner"', "steps.plann", "unknown step"),
        ("tools = []", 'tools = ["shell"]', "roles.lead.tools", "unknown tool 'shell'"),
        ('icon_emoji = ":compass:"', 'icon_emoji = "compass"', "roles.lead.slack.icon_emoji", ""),
    ],
)
def test_cross_field_problems_name_the_key(old, new, key, message):
    text = _edit(old, new)
    where = f"crew.toml:{_line_of(text, new)}: {key}: "
    assert any(line.startswith(where) and message in line for line in _error(text).splitlines())


def test_every_problem_is_reported_in_line_order():
    text = _edit("run_usd = 5.0", "run_usd = 0")
    text = _edit("max_tokens = 16384", "max_tokens = 0", after="[roles.coder]", text=text)
    lines = _error(text).splitlines()
    assert [line.split(": ")[1] for line in lines] == ["roles.coder.max_tokens", "budgets.run_usd"]


def test_crew_toml_may_not_carry_repo_prompts():
    assert "prompts: [prompts] belongs in a repository" in _error(DEFAULT + '[prompts]\nx = "a"\n')


def test_an_unknown_roster_lists_the_rosters():
    with pytest.raises(ConfigError, match="default, product-team"):
        roster_text("startup")


def test_the_crew_round_trips_through_its_dump():
    crew = load_crew(None)
    assert Crew.model_validate(crew.model_dump(by_alias=True)) == crew


def test_role_for_refuses_an_unknown_step():
    with pytest.raises(ValueError, match="unknown step 'deploy'"):
        load_crew(None).role_for("deploy")


def test_a_fractional_threshold_rounds_up():
    assert (
        parse_crew(
            _edit('vote_threshold = "all"', "vote_threshold = 0.5"), source="c.toml"
        ).votes_needed
        == 3
    )


# --- .repocrew.toml ----------------------------------------------------------------------------


def test_repo_overrides_merge_deeply_and_leave_the_rest():
    crew = load_crew(None)
    text = """
protected_paths = ["secrets/**"]

[roles.coder]
model = "claude-opus-4-5"

[tests]
command = "pytest -x tests"

[budgets]
run_usd = 2.5
"""
    merged = apply_repo_overrides(crew, text)
    assert merged.roles["coder"].model == "claude-opus-4-5"
    assert (
        merged.roles["coder"].model_copy(update={"model": crew.roles["coder"].model})
        == (crew.roles["coder"])
    )
    assert merged.roles["reviewer"] == crew.roles["reviewer"]
    assert merged.protected_paths == ("secrets/**",)
    assert merged.tests.command == ("pytest", "-x", "tests")
    assert merged.tests.wall_seconds == crew.tests.wall_seconds
    assert (merged.budgets.run_usd, merged.budgets.day_usd) == (2.5, crew.budgets.day_usd)
    assert merged.steps == crew.steps and merged.name == crew.name


def test_repo_prompts_map_template_names_to_repo_files():
    text = '[prompts]\n"roles/coder" = "docs/crew/coder.md.j2"\n'
    merged = apply_repo_overrides(load_crew(None), text)
    assert merged.prompt_overrides == {"roles/coder": "docs/crew/coder.md.j2"}
    with pytest.raises(ConfigError, match="must be a path inside the repository"):
        apply_repo_overrides(load_crew(None), '[prompts]\nx = "../../etc/passwd"\n')


def test_an_invalid_repo_override_names_the_repo_file_line_and_key():
    with pytest.raises(ConfigError) as caught:
        apply_repo_overrides(load_crew(None), "# budgets\n\n[budgets]\nrun_usd = 0\n")
    assert str(caught.value) == ".repocrew.toml:4: budgets.run_usd: must be greater than 0 (got 0)"


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ("[roles.coder.github]\napp_id = 1234\n", 3, "roles.coder.github.app_id"),
        (
            '[roles.coder.github]\nprivate_key_path = "k.pem"\n',
            3,
            "roles.coder.github.private_key_path",
        ),
        ('[roles.coder]\nslack.bot_token_env = "MINE"\n', 3, "roles.coder.slack.bot_token_env"),
        ('[roles.new.slack]\nbot_token_env = "MINE"\n', 3, "roles.new.slack.bot_token_env"),
        ("[tests]\nallow_unsandboxed = true\n", 3, "tests.allow_unsandboxed"),
        ('channel = "#general"\n', 2, "channel"),
        ("[prices.claude-sonnet-4-5]\ninput = 0\noutput = 0\n", 2, "prices"),
    ],
)
def test_a_repo_may_not_set_credentials_or_operator_settings(text, line, key):
    with pytest.raises(ConfigError) as caught:
        apply_repo_overrides(load_crew(None), "\n" + text)
    assert str(caught.value).startswith(f".repocrew.toml:{line}: {key}: ")


def test_an_unknown_repo_key_suggests_the_right_one():
    with pytest.raises(ConfigError, match="budget: unknown key; did you mean 'budgets'"):
        apply_repo_overrides(load_crew(None), "[budget]\nrun_usd = 1\n")


# --- the key → line index -----------------------------------------------------------------------


def test_key_lines_follow_dotted_quoted_keys_and_multiline_values():
    text = '''a = """x
[not.a.table]
b = 1"""
"q.k".'lit'.bare = [
  1, # ]
  "]",
]
c = { d = 1 }
[t . "u v"]
e = 2
[[arr]]
x = 1
[[arr]]
x = 2
'''
    lines = key_lines(text)
    assert lines.explicit == {
        ("a",): 1,
        ("q.k", "lit", "bare"): 4,
        ("c",): 8,
        ("t", "u v"): 9,
        ("t", "u v", "e"): 10,
        ("arr", 0): 11,
        ("arr", 0, "x"): 12,
        ("arr", 1): 13,
        ("arr", 1, "x"): 14,
    }
    assert lines.line(("c", "d")) == 8 and lines.line(("q.k",)) == 4 and lines.line(("z",)) == 1


def test_the_readme_names_both_rosters():
    readme = (REPO / "README.md").read_text()
    assert all(f"--roster {name}" in readme for name in ROSTERS)


# --- [environment] and the optional [tests] command ---------------------------------------------


def test_the_packaged_rosters_leave_the_test_command_and_set_up_to_detection():
    for name in ROSTERS:
        crew = parse_crew(roster_text(name), source=f"{name}.toml")
        assert crew.tests.command is None
        assert (crew.environment.setup, crew.environment.python) == (None, None)
        assert crew.environment.cache is True


def test_an_explicit_environment_and_test_command_parse():
    text = _edit("# command = [", 'command = "npx vitest run"\n# command = [')
    environment = (
        'setup = ["python3.12 -m venv .venv", ".venv/bin/pip install -e ."]\n'
        'python = "3.12"\nnode = "20.11"\ncache = false'
    )
    text = _edit("cache = true", environment, after="[environment]", text=text)
    crew = parse_crew(text, source="crew.toml")
    assert crew.tests.command == ("npx", "vitest", "run")
    assert crew.environment.setup == ("python3.12 -m venv .venv", ".venv/bin/pip install -e .")
    assert (crew.environment.python, crew.environment.node) == ("3.12", "20.11")
    assert crew.environment.cache is False


@pytest.mark.parametrize(
    ("old", "new", "key", "message"),
    [
        ("cache = true", "cahce = true", "environment.cahce", "unknown key; did you mean 'cache'?"),
        ("cache = true", 'cache = "yes"', "environment.cache", "must be a valid boolean"),
        ("cache = true", 'python = "py3"', "environment.python", 'like "3.12"'),
        ("cache = true", 'node = "lts"', "environment.node", 'like "20"'),
        ("cache = true", 'setup = ["make", " "]', "environment.setup", "must not be empty"),
        ("cache = true", 'setup = "make venv"', "environment.setup", "must be an array"),
        ("# command = [", 'command = ""\n# command = [', "tests.command", "at least 1"),
    ],
)
def test_a_bad_environment_or_test_command_names_file_line_and_key(old, new, key, message):
    text = _edit(old, new, after="[environment]" if "command" not in new else "")
    where = f"crew.toml:{_line_of(text, new.splitlines()[0])}: {key}: "
    assert any(line.startswith(where) and message in line for line in _error(text).splitlines())


def test_a_repository_may_set_its_environment_and_test_command():
    text = """
[tests]
command = ["npm", "test"]

[environment]
setup = ["npm ci"]
node = "20"
"""
    merged = apply_repo_overrides(load_crew(None), text)
    assert merged.tests.command == ("npm", "test")
    assert (merged.environment.setup, merged.environment.node) == (("npm ci",), "20")
    assert merged.environment.cache is True


def test_a_repository_environment_typo_names_the_repo_file_line_and_key():
    with pytest.raises(ConfigError) as caught:
        apply_repo_overrides(load_crew(None), '\n[environment]\npyhton = "3.12"\n')
    assert str(caught.value) == (
        ".repocrew.toml:3: environment.pyhton: unknown key; did you mean 'python'?"
    )
