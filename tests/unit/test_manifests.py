"""The app manifests ask GitHub and Slack for exactly what repocrew acts on and calls."""

from __future__ import annotations

import re

import yaml
from typer.testing import CliRunner

from bot.triggers.catalog import GITHUB_ACTED_ON, SLACK_ACTED_ON_EVENTS
from emulators.slack.methods import SCOPES
from repocrew.cli import app, manifest_text
from tests.conftest import REPO

URL = "https://crew.example.com"
# GitHub sends these to every App; they cannot be subscribed to in a manifest.
ALWAYS_SENT = {"installation", "installation_repositories"}
runner = CliRunner()


def _manifest(name: str) -> dict:
    return yaml.safe_load(manifest_text(name, URL + "/"))


def test_the_github_manifest_subscribes_to_exactly_the_events_acted_on():
    manifest = _manifest("github")
    assert set(manifest["default_events"]) == set(GITHUB_ACTED_ON) - ALWAYS_SENT
    assert manifest["hook_attributes"]["url"] == f"{URL}/github/webhook"
    assert manifest["url"] == URL and manifest["public"] is False
    assert manifest["default_permissions"] == {
        "contents": "write",
        "pull_requests": "write",
        "issues": "write",
        "checks": "write",
        "statuses": "write",
        "metadata": "read",
    }


def test_the_slack_manifest_points_at_the_three_endpoints():
    manifest = _manifest("slack")
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/crew" and command["url"] == f"{URL}/slack/commands"
    assert command["usage_hint"]
    settings = manifest["settings"]
    assert settings["event_subscriptions"]["request_url"] == f"{URL}/slack/events"
    assert settings["interactivity"]["request_url"] == f"{URL}/slack/interactions"


def test_the_slack_manifest_subscribes_to_the_events_acted_on():
    events = _manifest("slack")["settings"]["event_subscriptions"]["bot_events"]
    # Slack subscribes to `message` per kind of conversation: message.channels, message.im...
    assert {event.split(".")[0] for event in events} == SLACK_ACTED_ON_EVENTS


def test_the_slack_scopes_cover_every_method_the_poster_calls():
    scopes = set(_manifest("slack")["oauth_config"]["scopes"]["bot"])
    source = (REPO / "bot" / "slack" / "poster.py").read_text()
    called = {
        name.replace("_", ".", 1)
        for name in re.findall(r"\.((?:chat|conversations|views|auth)_\w+)\b", source)
    }
    assert {"chat.postMessage", "chat.update", "views.open", "conversations.join"} <= called
    lacking = {method for method in called if SCOPES.get(method) and not SCOPES[method] & scopes}
    assert lacking == set()
    assert {"chat:write.customize", "commands"} <= scopes


def test_no_placeholder_is_left_and_the_cli_prints_the_filled_manifest():
    for name, only_print in (("github", ["--print"]), ("slack", [])):
        result = runner.invoke(app, ["setup", name, "--url", URL, *only_print])
        assert result.exit_code == 0, result.output
        assert "{PUBLIC_URL}" not in result.output and f"{URL}/{name}/" in result.output
        assert yaml.safe_load(result.output) == _manifest(name)


def test_setup_wants_a_full_url():
    result = runner.invoke(app, ["setup", "slack", "--url", "crew.example.com"])
    assert result.exit_code == 2
