"""`Services` for unit tests of the triggers: the real store, small fakes of the ports.

A factory a test does not expect to be used fails loudly, so a handler reaching for GitHub,
Slack or the model where it should not is caught.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.services import Services
from bot.settings import Settings


def _unexpected(what: str) -> Callable[..., Any]:
    def fail(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError(f"this test does not expect {what}")

    return fail


def fake_services(
    engine: Any,
    settings: Settings,
    *,
    gateway: Any = None,
    installations: dict[str, int] | None = None,
    replies: Any = None,
) -> Services:
    """Services whose GitHub is `gateway` (for any repository) and whose Slack is `replies`."""
    return Services(
        engine=engine,
        settings=settings,
        repo_gateway=(lambda _installation, _repo: gateway)
        if gateway is not None
        else _unexpected("GitHub"),
        installation_of=(lambda repo: (installations or {}).get(repo))
        if installations is not None
        else _unexpected("an installation lookup"),
        step_services=_unexpected("a run's steps"),
        slack_replies=(lambda: replies) if replies is not None else _unexpected("Slack replies"),
        slack_poster=lambda: None,
    )
