"""Slack-like rate limits: token buckets per (method, key) and forced 429s for fault injection.

Slack allows chat.postMessage "about one message per second per channel, with short bursts
above that"; past it answers HTTP 429, `Retry-After: <seconds>` and `{"ok": false, "error":
"ratelimited"}`. The default policy here is that: 1 message/s per channel with a burst of 3.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Policy:
    """`per_second` sustained calls, `burst` at once; `per` names the argument keying the bucket."""

    per_second: float
    burst: int = 1
    per: str | None = None


DEFAULT_POLICIES = {"chat.postMessage": Policy(per_second=1.0, burst=3, per="channel")}


@dataclass
class Bucket:
    tokens: float
    updated: float


@dataclass
class Limited:
    """A refused call: how long the caller should wait (whole seconds, as Slack's header)."""

    method: str
    key: str
    retry_after: int
    at: float


@dataclass
class RateLimiter:
    policies: dict[str, Policy] = field(default_factory=lambda: dict(DEFAULT_POLICIES))
    clock: Callable[[], float] = time.monotonic
    buckets: dict[tuple[str, str], Bucket] = field(default_factory=dict)
    forced: dict[str, tuple[int, int]] = field(default_factory=dict)  # method -> (n, retry_after)
    refusals: list[Limited] = field(default_factory=list)

    def force(self, method: str, times: int, retry_after: int = 1) -> None:
        """Refuse the next `times` calls of `method` with 429, whatever the policy says."""
        self.forced[method] = (times, retry_after)

    def check(self, method: str, args: dict) -> Limited | None:
        """Take a token for this call, or say how long to wait; refusals are recorded."""
        now = self.clock()
        refusal = self._forced(method, now) or self._bucket(method, args, now)
        if refusal is not None:
            self.refusals.append(refusal)
        return refusal

    def _forced(self, method: str, now: float) -> Limited | None:
        times, retry_after = self.forced.get(method, (0, 1))
        if times <= 0:
            return None
        self.forced[method] = (times - 1, retry_after)
        return Limited(method, "forced", retry_after, now)

    def _bucket(self, method: str, args: dict, now: float) -> Limited | None:
        policy = self.policies.get(method)
        if policy is None:
            return None
        key = str(args.get(policy.per, "")) if policy.per else ""
        bucket = self.buckets.setdefault((method, key), Bucket(float(policy.burst), now))
        bucket.tokens = min(
            float(policy.burst), bucket.tokens + (now - bucket.updated) * policy.per_second
        )
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        wait = (1.0 - bucket.tokens) / policy.per_second
        return Limited(method, key, max(1, math.ceil(wait)), now)
