"""The primary rate limit: requests counted per caller in hourly windows."""

from __future__ import annotations

from emulators.github.auth import Principal
from emulators.github.emulator import GitHubEmulator

RATE_LIMIT = 5000
ANONYMOUS_LIMIT = 60


def rate_limit(emulator: GitHubEmulator, principal: Principal | None) -> dict[str, int]:
    key = principal.key if principal else "anonymous"
    limit = RATE_LIMIT if principal and principal.kind != "anonymous" else ANONYMOUS_LIMIT
    used = emulator.rate_used.get(key, 0)
    reset = int(emulator.clock() // 3600 + 1) * 3600
    return {"limit": limit, "used": used, "remaining": max(limit - used, 0), "reset": reset}
