"""The command line's edge: how each failure is told in one line, secrets kept out, and the
traceback only on request."""

from __future__ import annotations

from typing import Annotated

import pytest
import typer
from pydantic import ValidationError
from typer.testing import CliRunner

from bot.settings import Settings
from repocrew.errors import OneLineErrors, one_line
from repocrew.settings_errors import settings_line

SHORT_TOKEN = "short-secret"


def _invalid(**values: object) -> ValidationError:
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, **values)  # type: ignore[arg-type]
    return refused.value


def test_a_secret_setting_is_named_but_its_value_never_shown():
    line = settings_line(_invalid(dashboard_token=SHORT_TOKEN))

    assert line == (
        "REPOCREW_DASHBOARD_TOKEN: the value (hidden) must be at least 16 characters; "
        "fix it, or unset it to leave it off"
    )


def test_each_invalid_setting_is_on_the_same_line():
    line = settings_line(_invalid(log_format="xml", github_app_id="x", log_level="loud"))

    assert "\n" not in line
    assert "REPOCREW_GITHUB_APP_ID: 'x' should be a valid integer" in line
    assert "set it to one of auto, json, text, or unset it for the default (auto)" in line
    assert "REPOCREW_LOG_LEVEL: 'loud' must be one of DEBUG, INFO" in line


def test_a_worker_drives_at_least_one_run_at_once():
    line = settings_line(_invalid(worker_runs_at_once="0"))

    assert line == (
        "REPOCREW_WORKER_RUNS_AT_ONCE: '0' should be greater than or equal to 1; "
        "set it to a whole number at least 1, or unset it for the default (2)"
    )


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///./x.db", "sqlite:///./x.db"),
    ],
)
def test_postgres_urls_as_hosts_give_them_get_our_driver(given, stored):
    assert Settings(_env_file=None, database_url=given).database_url == stored  # type: ignore[call-arg]


def test_a_url_password_and_a_token_never_reach_the_line():
    token = "ghp_" + "a1B2c3D4e5" * 4
    code, line = one_line(RuntimeError(f"cannot reach postgresql://bob:hunter2@db/x\nwith {token}"))

    assert code == 1 and "hunter2" not in line and token not in line and "\n" not in line
    assert "postgresql://bob:***@db/x" in line


def _app() -> typer.Typer:
    app = typer.Typer(cls=OneLineErrors)

    @app.callback()
    def options(debug: Annotated[bool, typer.Option("--debug")] = False) -> None:
        """Options."""

    @app.command()
    def boom() -> None:
        raise RuntimeError("the unexpected")

    @app.command()
    def missing() -> None:
        raise LookupError("no run 7")

    return app


def test_a_known_failure_is_its_line_and_an_unknown_one_says_how_to_see_more():
    runner = CliRunner()

    known = runner.invoke(_app(), ["missing"])
    unknown = runner.invoke(_app(), ["boom"])

    assert (known.exit_code, known.stderr) == (1, "repocrew missing: no run 7\n")
    assert unknown.exit_code == 1 and "Traceback" not in unknown.stderr
    assert unknown.stderr.startswith("repocrew boom: unexpected RuntimeError: the unexpected (")
    assert "--debug" in unknown.stderr


def test_debug_lets_the_exception_through():
    result = CliRunner().invoke(_app(), ["--debug", "boom"])

    assert isinstance(result.exception, RuntimeError) and result.stderr == ""
