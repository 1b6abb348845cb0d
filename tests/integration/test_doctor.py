"""`repocrew doctor` against the three emulators: what is ready, what is not, and why."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr
from typer.testing import CliRunner

from bot.operator.doctor import (
    HOW_TO_GET,
    Check,
    check_anthropic,
    check_github,
    check_oauth,
    check_slack,
    run_checks,
)
from bot.sandbox import sandbox_status
from bot.settings import CREDENTIALS, Settings
from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from emulators.anthropic import AnthropicEmulator
from emulators.anthropic import create_app as anthropic_app
from emulators.github import GitHubEmulator
from emulators.github import create_app as github_app
from emulators.server import running
from emulators.slack import DEFAULT_TOKEN, SlackEmulator
from emulators.slack import create_app as slack_app
from emulators.slack.state import BOT_SCOPES
from repocrew.cli import app
from tests.conftest import GITHUB_SECRET, SLACK_SECRET
from tests.support.identity import CLIENT_ID, CLIENT_SECRET, oauth_app

KEY = "sk-ant-test-doctor-key-0001"
runner = CliRunner()


def _env(settings: Settings) -> dict[str, str]:
    """The environment that makes `load_settings()` give `settings`' credentials and URLs."""

    def secret(value: SecretStr | None) -> str:
        assert value is not None
        return value.get_secret_value()

    return {
        "REPOCREW_DATABASE_URL": settings.database_url,
        "REPOCREW_GITHUB_APP_ID": str(settings.github_app_id),
        "REPOCREW_GITHUB_PRIVATE_KEY": secret(settings.github_private_key),
        "REPOCREW_GITHUB_API_URL": settings.github_api_url,
        "REPOCREW_GITHUB_WEBHOOK_SECRET": secret(settings.github_webhook_secret),
        "REPOCREW_SLACK_BOT_TOKEN": secret(settings.slack_bot_token),
        "REPOCREW_SLACK_SIGNING_SECRET": secret(settings.slack_signing_secret),
        "REPOCREW_SLACK_API_URL": settings.slack_api_url,
        "ANTHROPIC_API_KEY": secret(settings.anthropic_api_key),
        "REPOCREW_ANTHROPIC_BASE_URL": settings.anthropic_base_url,
        "REPOCREW_GITHUB_WEB_URL": settings.github_web_url,
        "REPOCREW_GITHUB_OAUTH_CLIENT_ID": settings.github_oauth_client_id or "",
        "REPOCREW_GITHUB_OAUTH_CLIENT_SECRET": secret(settings.github_oauth_client_secret),
    }


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A directory without .env, and no repocrew variables from the developer's shell."""
    monkeypatch.chdir(tmp_path)
    for name in [*Settings.model_fields, "anthropic_api_key"]:
        monkeypatch.delenv(f"REPOCREW_{name.upper()}", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    return tmp_path


@pytest.fixture
def settings(workdir) -> Iterator[Settings]:
    """Valid credentials for GitHub, Slack and the model, each emulated, on a current store."""
    hub = GitHubEmulator.with_defaults()
    oauth_app(hub)
    model = AnthropicEmulator(api_keys={KEY})
    with (
        running(github_app(hub)) as hub_url,
        running(anthropic_app(model)) as model_url,
        running(slack_app(SlackEmulator())) as slack_url,
    ):
        url = f"sqlite:///{workdir / 'doctor.db'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=url,
            github_app_id=1,
            github_private_key=hub.apps[1].private_key_pem.decode(),
            github_api_url=hub_url,
            github_webhook_secret=GITHUB_SECRET,
            slack_bot_token=DEFAULT_TOKEN,
            slack_signing_secret=SLACK_SECRET,
            slack_api_url=f"{slack_url}/api/",
            anthropic_api_key=KEY,
            anthropic_base_url=model_url,
            github_web_url=hub_url,
            github_oauth_client_id=CLIENT_ID,
            github_oauth_client_secret=CLIENT_SECRET,
        )


def _by_name(checks: list[Check]) -> dict[str, Check]:
    return {check.name: check for check in checks}


def test_without_credentials_doctor_names_each_variable_and_where_to_get_it(workdir):
    env = {"REPOCREW_DATABASE_URL": f"sqlite:///{workdir / 'empty.db'}"}
    result = runner.invoke(app, ["doctor"], env=env)
    assert result.exit_code == 1, result.output
    for credential in CREDENTIALS:
        assert credential.name in result.output
        assert HOW_TO_GET[credential.env_names[0]] in result.output
    assert "console.anthropic.com" in result.output and "xoxb-" in result.output
    assert "repocrew db upgrade" in result.output  # the fresh store has no schema yet
    assert "skipped: no App id or private key" in result.output
    assert "skipped: `/crew link` and dashboard sign-in are off" in result.output
    assert "REPOCREW_GITHUB_OAUTH_CLIENT_ID" in result.output


def test_with_the_emulators_every_check_passes(settings):
    checks = _by_name(run_checks(settings))
    sandbox = checks.pop("sandbox")
    assert sandbox.ok is sandbox_status().available
    assert {name: check.ok for name, check in checks.items() if check.ok is not True} == {}
    assert checks["GitHub App"].detail == "App 1: 1 installation (octo-org)"
    assert checks["Slack"].detail.startswith("auth.test ok: repocrew in")
    assert checks["Anthropic"].detail == "reachable; 3 models available"
    assert "schema current" in checks["store"].detail
    assert checks["GitHub OAuth App"].detail == f"device flow ready at {settings.github_web_url}"


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"github_oauth_client_id": "Ov23liNobodyKnowsMe"}, "REPOCREW_GITHUB_OAUTH_CLIENT_ID"),
        ({"github_oauth_client_secret": None}, "REPOCREW_GITHUB_OAUTH_CLIENT_SECRET"),
    ],
)
def test_an_unknown_oauth_client_or_a_missing_secret_fails_with_the_fix(settings, change, said):
    check = check_oauth(settings.model_copy(update=change))
    assert check.ok is False and said in check.fix


def test_the_cli_exits_0_when_ready_and_prints_noSecretStr(settings):
    result = runner.invoke(app, ["doctor"], env=_env(settings))
    assert result.exit_code == (0 if sandbox_status().available else 1), result.output
    failing = [line for line in result.output.splitlines() if line.startswith("FAIL")]
    assert failing == ([] if sandbox_status().available else [failing[0]])
    assert "1 installation" in result.output
    for secret in (KEY, DEFAULT_TOKEN, GITHUB_SECRET, SLACK_SECRET, "PRIVATE KEY-----"):
        assert secret not in result.output


def test_a_key_of_another_app_is_refused_with_a_reason(settings):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    check = check_github(settings.model_copy(update={"github_private_key": SecretStr(pem)}))
    assert check.ok is False and check.detail.startswith("GitHub refused the App's JWT: 401")
    assert "REPOCREW_GITHUB_APP_ID" in check.fix


def test_a_key_that_is_no_key_says_so(settings):
    check = check_github(settings.model_copy(update={"github_private_key": SecretStr("garbage")}))
    assert (check.ok, check.detail) == (False, "the private key is not a PEM RSA private key")


def test_a_wrong_slack_token_is_refused_with_slacks_reason(settings):
    wrong = settings.model_copy(update={"slack_bot_token": SecretStr("xoxb-not-a-real-token")})
    check = check_slack(wrong)
    assert check.ok is False and check.detail == "Slack refused the token: invalid_auth"
    assert "REPOCREW_SLACK_BOT_TOKEN" in check.fix


def test_a_slack_token_without_a_scope_the_manifest_asks_for_is_named_with_the_fix(settings):
    """Slack names a token's scopes in `x-oauth-scopes`; one the crew needs (groups:history:
    finding a post in doubt in a private channel) missing is a failure naming it."""
    chat = SlackEmulator()
    chat.add_token("xoxb-no-private-history", scopes=BOT_SCOPES - {"groups:history"})
    with running(slack_app(chat)) as slack_url:
        lacking = settings.model_copy(
            update={
                "slack_bot_token": SecretStr("xoxb-no-private-history"),
                "slack_api_url": f"{slack_url}/api/",
            }
        )
        check = check_slack(lacking)
        complete = check_slack(
            lacking.model_copy(update={"slack_bot_token": SecretStr(DEFAULT_TOKEN)})
        )
    assert check.ok is False and check.detail.endswith("but the token lacks groups:history")
    assert check.fix.startswith("add groups:history under OAuth & Permissions")
    assert "REPOCREW_SLACK_BOT_TOKEN" in check.fix
    assert complete.ok is True and complete.detail.endswith("every scope the manifest asks for")


def test_a_wrong_model_key_is_refused(settings):
    check = check_anthropic(settings.model_copy(update={"anthropic_api_key": SecretStr("sk-no")}))
    assert check.ok is False and "401 authentication_error" in check.detail
    assert "sk-no" not in check.detail
