"""`repocrew init` writes a roster file that loads back as the packaged crew."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bot.roster.loader import load_crew, parse_crew, roster_text
from repocrew.cli import app

runner = CliRunner()


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REPOCREW_CREW_FILE", raising=False)
    return tmp_path


def test_init_writes_the_default_roster_where_the_setting_points(workdir):
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    written = workdir / "crew.toml"
    assert written.read_text() == roster_text("default")
    assert load_crew(written) == parse_crew(roster_text("default"), source="default.toml")
    assert "planner, researcher, coder, reviewer, tester, lead" in result.output


def test_init_follows_the_crew_file_setting(workdir, monkeypatch):
    monkeypatch.setenv("REPOCREW_CREW_FILE", str(workdir / "team.toml"))
    assert runner.invoke(app, ["init"]).exit_code == 0
    assert (workdir / "team.toml").is_file() and not (workdir / "crew.toml").exists()


def test_init_refuses_to_overwrite_without_force(workdir):
    path = workdir / "crew.toml"
    path.write_text("# my crew\n")
    result = runner.invoke(app, ["init", "--path", str(path)])
    assert result.exit_code == 1
    assert "already exists; pass --force" in result.output
    assert path.read_text() == "# my crew\n"
    forced = runner.invoke(app, ["init", "--path", str(path), "--force"])
    assert forced.exit_code == 0 and path.read_text() == roster_text("default")


def test_init_writes_the_product_team(workdir):
    path = workdir / "crew.toml"
    result = runner.invoke(app, ["init", "--roster", "product-team", "--path", str(path)])
    assert result.exit_code == 0, result.output
    crew = load_crew(path)
    assert (crew.name, crew.lead, crew.role_for("test").key) == ("product-team", "ceo", "devops")


def test_an_unknown_roster_lists_the_names_and_writes_nothing(workdir):
    result = runner.invoke(app, ["init", "--roster", "startup"])
    assert result.exit_code == 2
    assert "default, product-team" in result.output
    assert list(workdir.iterdir()) == []
