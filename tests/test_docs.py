"""The README keeps up with the code: every setting and command is documented."""

from __future__ import annotations

import re

from bot.settings import Settings
from repocrew.cli import app
from tests.conftest import REPO

README = (REPO / "README.md").read_text()


def _env_name(name: str, field) -> str:
    alias = field.validation_alias
    if alias is not None:
        return alias.choices[0]
    return f"REPOCREW_{name.upper()}"


def test_every_setting_is_in_the_configuration_table():
    missing = [
        _env_name(name, field)
        for name, field in Settings.model_fields.items()
        if f"`{_env_name(name, field)}`" not in README
    ]
    assert missing == []


def test_every_command_is_documented():
    names = [c.name or c.callback.__name__ for c in app.registered_commands]
    assert names and all(f"repocrew {name}" in README for name in names)
    assert "repocrew db upgrade" in README


def _command_table() -> dict[str, tuple[str, str]]:
    """README's `/crew` table: word → (where on GitHub, Slack usage), "—" where it is not."""
    section = README[README.index("## `/crew` commands") :]
    section = section[: section.index("\n## ")]
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+?) \| ([^|]+?) \| .+ \|$", section, re.M)
    assert rows
    table = {word: (github, slack) for word, github, slack in rows}
    assert len(table) == len(rows), "a command is in the table twice"
    return table


def test_the_command_table_has_every_github_and_slack_command_and_no_other():
    from bot.triggers.commands import COMMANDS as GITHUB
    from bot.triggers.slack_commands import COMMANDS as SLACK

    truth = {
        word: (
            GITHUB[word][1] if word in GITHUB else "—",
            f"`/crew {SLACK[word].usage}`" if word in SLACK else "—",
        )
        for word in [*GITHUB, *SLACK]
    }
    assert _command_table() == truth


def test_ci_runs_the_readme_test_command():
    command = re.search(r"^make (\w+)\s+# creates .venv, installs repocrew with test", README, re.M)
    assert command is not None
    assert f"make {command.group(1)}" in (REPO / ".ci" / "run").read_text()


def test_the_readme_draws_the_run_state_machine_the_code_has():
    from bot.runs.states import mermaid

    drawn = re.search(r"```mermaid\n(stateDiagram-v2.*?)\n```", README, re.S)
    assert drawn is not None and drawn.group(1) == mermaid()


def test_every_role_of_the_shipped_rosters_and_every_step_is_named():
    from bot.roster.loader import ROSTERS, parse_crew, roster_text
    from bot.roster.models import STEPS

    for roster in ROSTERS:
        crew = parse_crew(roster_text(roster), source=roster)
        assert all(role.key in README for role in crew.roles.values()), roster
    assert all(f"**{step}**" in README for step in STEPS)


def _layout() -> str:
    return README[README.index("## Layout") :]


def test_every_package_is_named_in_the_layout():
    packages = sorted(
        str(init.parent.relative_to(REPO)) + "/"
        for root in ("bot", "webhooks", "jobs", "emulators", "repocrew")
        for init in (REPO / root).rglob("__init__.py")
    )
    assert packages and [p for p in packages if f"`{p}`" not in _layout()] == []


def test_the_layouts_answers_name_files_that_do_what_they_say():
    # question → (file, what it must contain to be the answer)
    answers = {
        "where does an `issue_comment` go?": ("bot/triggers/github_comments.py", '"issue_comment"'),
        "who writes the run row?": ("bot/store/runs.py", "update(_run)"),
        "where is the budget enforced?": ("bot/runs/budget.py", "raise BudgetExhausted"),
        "where is a Slack post retried?": ("bot/slack/sender.py", "mark_retry"),
        "where is a protected path refused?": ("bot/workspace/files.py", "protected"),
    }
    for question, (path, evidence) in answers.items():
        assert f"| {question} | `{path}`" in _layout(), question
        assert evidence in (REPO / path).read_text(), path


def test_every_path_the_docs_name_exists():
    named = {
        (doc, path)
        for doc in ("README.md", "SECURITY.md", "bench/README.md")
        for path in re.findall(
            r"`((?:bot|webhooks|jobs|emulators|repocrew|tests|bench|deploy)/[\w./-]*)`",
            (REPO / doc).read_text(),
        )
    }
    assert named and [(doc, p) for doc, p in sorted(named) if not (REPO / p).exists()] == []


def test_the_readme_draws_the_sprint_state_machine_the_code_has():
    from bot.sprints.states import mermaid

    section = README[README.index("## Sprints") :]
    drawn = re.search(r"```mermaid\n(stateDiagram-v2.*?)\n```", section, re.S)
    assert drawn is not None and drawn.group(1) == mermaid()
