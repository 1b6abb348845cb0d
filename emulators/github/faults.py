"""Fault injection: the next N responses of a route become errors, rate limits or delays."""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass, field
from typing import Any

from emulators.github import render

PRESETS: dict[str, tuple[int, dict[str, Any], dict[str, str]]] = {
    "server_error": (502, render.error("Server Error"), {}),
    "not_found": (404, render.error("Not Found"), {}),
    "secondary_rate_limit": (
        403,
        render.error(
            "You have exceeded a secondary rate limit. Please wait a few minutes "
            "before you try again."
        ),
        {"Retry-After": "1"},
    ),
    "rate_limited": (429, render.error("API rate limit exceeded"), {"Retry-After": "1"}),
}


@dataclass
class Fault:
    method: str
    path: str  # a glob on the request path, e.g. /repos/*/pulls
    times: int
    status: int | None = None  # None: only the delay, then the real response
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class Faults:
    """Faults queued on the emulator; each request takes the first that matches it."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(
        self,
        method: str,
        path: str,
        kind: str | None = None,
        *,
        times: int = 1,
        status: int | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> Fault:
        """Fail the next `times` `method` requests on `path` (a glob) with a preset `kind`
        (server_error, not_found, secondary_rate_limit, rate_limited) or an explicit status."""
        if kind is not None:
            status, body, preset_headers = PRESETS[kind]
            headers = {**preset_headers, **(headers or {})}
        fault = Fault(method.upper(), path, times, status, body, dict(headers or {}), delay)
        with self._lock:
            self._faults.append(fault)
        return fault

    def pending(self) -> int:
        """How many faulted responses are still to be served."""
        with self._lock:
            return sum(fault.times for fault in self._faults)

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method in (method, "*") and fnmatch.fnmatchcase(path, fault.path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None
