"""Which events are acted on, and the router that dispatches them."""

from __future__ import annotations

from bot.store.queue import backoff_delay
from bot.triggers.catalog import github_acts_on, slack_acts_on
from bot.triggers.github_deliveries import router as github_router
from bot.triggers.router import EventRouter


def test_github_events_the_crew_acts_on():
    assert github_acts_on("issues", "labeled")
    assert github_acts_on("installation", "anything-new")
    assert not github_acts_on("issues", "pinned")
    assert not github_acts_on("star", "created")


def test_slack_requests_the_crew_acts_on():
    assert slack_acts_on("command", "/crew")
    assert slack_acts_on("event_callback", "app_mention")
    assert slack_acts_on("block_actions", "")
    assert not slack_acts_on("event_callback", "reaction_added")
    assert not slack_acts_on("block_suggestion", "")


def test_every_registered_github_handler_is_for_an_event_we_subscribe_to():
    import bot.triggers.github_installations  # noqa: F401

    for event, action in github_router.registered():
        assert github_acts_on(event, action or "any"), (event, action)


def test_router_calls_event_wide_and_action_handlers():
    router = EventRouter()
    calls = []
    router.register("issues")(lambda payload: calls.append(("any", payload["action"])))
    router.register("issues", "labeled")(lambda payload: calls.append(("labeled",)))
    assert router.dispatch("issues", {"action": "labeled"}) == 2
    assert router.dispatch("issues", {"action": "opened"}) == 1
    assert router.dispatch("push", {}) == 0
    assert calls == [("any", "labeled"), ("labeled",), ("any", "opened")]


def test_backoff_doubles_and_is_capped():
    assert [backoff_delay(n, 2.0) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert backoff_delay(40, 2.0, cap_seconds=60) == 60
