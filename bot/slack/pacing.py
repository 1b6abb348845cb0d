"""The pacing rule: when a channel may post again after Slack refused a post with 429.

Slack allows chat.postMessage about one message per second per channel, "with short bursts
above that" (its documented limit), and refuses past it with 429 and `Retry-After` in whole
seconds, rounded up. A channel posts freely until the first refusal. After a refusal at `r`
with Retry-After `R`, its next post goes at r + R, and each later one POST_INTERVAL after the
previous one's slot: the allowance refills at the documented rate whatever Retry-After said,
so posts on these slots are not refused again. Not one Retry-After apart (a Retry-After of 5
would make every later post wait 5 s), and not counted from when the previous post left (each
post's own delay would push all the later ones back; a slot met late is made up at the next,
as the allowance kept refilling meanwhile). A refusal on the slots starts them again from it.
"""

from __future__ import annotations

from dataclasses import dataclass

# Seconds between posts to one channel at Slack's documented pace for chat.postMessage.
POST_INTERVAL = 1.0


@dataclass
class Pace:
    """One channel's slots, on a monotonic clock; none until Slack has refused a post."""

    next_slot: float | None = None

    def refused(self, *, at: float, retry_after: float) -> float:
        """Slack refused a post at `at`: the seconds to wait before trying it again."""
        self.next_slot = at + retry_after
        return retry_after

    def wait(self, *, at: float) -> float:
        """Seconds from `at` until the channel's next slot; 0 when it may post now."""
        return 0.0 if self.next_slot is None else max(0.0, self.next_slot - at)

    def posted(self, *, at: float) -> None:
        """A post (on its slot) went at `at`: the next slot is an interval after that slot, or
        now if the post was later than that."""
        if self.next_slot is not None:
            self.next_slot = max(self.next_slot + POST_INTERVAL, at)
