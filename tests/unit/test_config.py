"""Settings: defaults, environment names, and the missing-credentials report."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.settings import Settings
from repocrew.cli import report_missing_credentials
from repocrew.settings_errors import settings_line


def _settings(**values) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_defaults_are_the_embedded_sqlite_store_and_the_real_services(monkeypatch):
    for name in ("REPOCREW_DATABASE_URL", "REPOCREW_GITHUB_API_URL", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = _settings()
    assert settings.database_url == "sqlite:///./repocrew.db"
    assert settings.github_api_url == "https://api.github.com"
    assert settings.anthropic_api_key is None


def test_environment_variables_are_read_with_their_documented_names(monkeypatch, tmp_path):
    key = tmp_path / "app.pem"
    key.write_text("-----BEGIN RSA PRIVATE KEY-----\nabc\n")
    monkeypatch.setenv("REPOCREW_GITHUB_WEBHOOK_SECRET", "s3cret")
    monkeypatch.setenv("REPOCREW_GITHUB_APP_ID", "42")
    monkeypatch.setenv("REPOCREW_GITHUB_PRIVATE_KEY_PATH", str(key))
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.setenv("REPOCREW_DATABASE_URL", "postgresql://u@h/db")
    settings = _settings()
    assert settings.github_webhook_secret.get_secret_value() == "s3cret"
    assert settings.github_app_id == 42
    assert settings.github_app_private_key.startswith("-----BEGIN")
    assert settings.anthropic_api_key.get_secret_value() == "sk-ant-test"
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert "s3cret" not in repr(settings) and "sk-ant-test" not in repr(settings)


def test_an_unknown_database_is_refused_with_the_variable_named():
    with pytest.raises(ValidationError) as refused:
        _settings(database_url="mysql://x")
    assert settings_line(refused.value).startswith("REPOCREW_DATABASE_URL: mysql://… must be")


def test_missing_credentials_are_named_with_what_they_enable(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    settings = _settings(github_webhook_secret="x", github_private_key_path="/k.pem")
    lines = report_missing_credentials(settings)
    named = " ".join(lines)
    assert "REPOCREW_GITHUB_WEBHOOK_SECRET" not in named
    assert "REPOCREW_GITHUB_PRIVATE_KEY" not in named  # the _PATH form counts
    assert "missing REPOCREW_SLACK_SIGNING_SECRET: POST /slack/events" in named
    assert "missing ANTHROPIC_API_KEY: the agents' model calls" in named
    assert len(lines) == 4
