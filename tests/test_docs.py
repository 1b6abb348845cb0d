"""The README keeps up with the code: every setting and command is documented."""

from __future__ import annotations

import re

from bot.cli import app
from bot.config import Settings
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


def test_ci_runs_the_readme_test_command():
    command = re.search(r"^make (\w+)\s+# creates .venv, installs repocrew with test", README, re.M)
    assert command is not None
    assert f"make {command.group(1)}" in (REPO / ".ci" / "run").read_text()
