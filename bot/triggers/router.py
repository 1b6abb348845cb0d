"""A tiny event router: handlers register for an event (and action); dispatch calls them all."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

Handler = Callable[..., None]


class EventRouter:
    """`@router.register("installation", action="created")`, as gidgethub does it."""

    def __init__(self) -> None:
        self._handlers: dict[tuple[str, str | None], list[Handler]] = defaultdict(list)

    def register(self, event: str, action: str | None = None) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            self._handlers[(event, action)].append(handler)
            return handler

        return decorate

    def handlers_for(self, event: str, action: str) -> list[Handler]:
        return [*self._handlers.get((event, None), []), *self._handlers.get((event, action), [])]

    def dispatch(self, event: str, payload: dict[str, Any], *args: Any) -> int:
        """Call every matching handler; returns how many ran."""
        handlers = self.handlers_for(event, str(payload.get("action") or ""))
        for handler in handlers:
            handler(payload, *args)
        return len(handlers)

    def registered(self) -> set[tuple[str, str | None]]:
        return set(self._handlers)
