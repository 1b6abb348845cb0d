"""After a 429 a channel posts on Slack's documented pace, through the real slack_sdk and the
Slack emulator (its own limits: 1 post/s per channel, burst 3).

The sender and the emulator's limiter share a fake clock, so the pauses the sender asks for
are read exactly and nothing here waits or is timed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.slack.pacing import POST_INTERVAL
from bot.slack.poster import SlackPoster
from bot.slack.sender import ChannelSender
from bot.store.slack_leases import claim_due_messages
from bot.store.slack_outbox import enqueue_message, message_by_key
from emulators.server import running
from emulators.slack import DEFAULT_TOKEN, SlackEmulator, create_app
from tests.integration.test_slack_outbox import CREW, PERSONAS, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(clock: FakeClock) -> SlackEmulator:
    return SlackEmulator(monotonic=clock.monotonic)


@pytest.fixture
def poster(emulator: SlackEmulator) -> Iterator[SlackPoster]:
    with running(create_app(emulator)) as base:
        yield SlackPoster(token=DEFAULT_TOKEN, base_url=base + "/api/")


def test_after_a_long_retry_after_the_channel_posts_once_an_interval(
    engine, poster, emulator, clock
):
    for n in range(4):
        enqueue_message(engine, channel=CREW, key=f"m{n}", text=f"message {n}", role="coder")
    sender = ChannelSender(
        engine,
        poster,
        PERSONAS,
        clock.now,
        "drainer",
        120.0,
        patience=lambda _seconds, _batch: True,  # wait in place, as the outbox job does
        clock=clock.monotonic,
    )
    claimed = claim_due_messages(
        engine, channel=CREW, worker_id="drainer", now=clock.now(), limit=10, lease_seconds=120
    )
    batch = sender.batch(claimed)
    emulator.force_rate_limit("chat.postMessage", times=1, retry_after=3)

    pauses = []
    while (pause := sender.send(batch)) is not None:
        pauses.append(pause)
        clock.seconds += pause

    # Retry-After once; the first post lets the other channels post theirs (0); then one post
    # per interval (Slack's 1/s), not one per Retry-After (3 s each before).
    assert pauses == [3, 0.0, POST_INTERVAL, POST_INTERVAL, POST_INTERVAL]
    assert len(emulator.rate_limited) == 1  # the slots were never refused
    posted = [post.text for post in emulator.channel_transcript(CREW).posts]
    assert posted == [f"message {n}" for n in range(4)]
    assert all(message_by_key(engine, key=f"m{n}").status == "sent" for n in range(4))
