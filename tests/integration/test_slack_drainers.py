"""Channels drain side by side: a rate-limited channel waits out its Retry-After in place while
the others post, through the real slack_sdk and the Slack emulator's own limits (1 post/s per
channel, burst 3). Nothing here is timed: the order of arrival is read from Slack's own
message timestamps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.slack.outbox import drain
from bot.slack.poster import SlackPoster
from bot.store.slack_outbox import enqueue_message, message_by_key
from emulators.server import running
from emulators.slack import DEFAULT_TOKEN, SlackEmulator, create_app
from tests.integration.test_slack_outbox import BOT, CREW, HUMAN, PERSONAS


@pytest.fixture
def emulator() -> SlackEmulator:
    return SlackEmulator()  # Slack's limits, on the real clock


@pytest.fixture
def poster(emulator: SlackEmulator) -> Iterator[SlackPoster]:
    with running(create_app(emulator)) as base:
        yield SlackPoster(token=DEFAULT_TOKEN, base_url=base + "/api/")


def arrivals(emulator: SlackEmulator, channel: str) -> list[tuple[float, str]]:
    return [(float(post.ts), post.text) for post in emulator.channel_transcript(channel).posts]


def test_a_rate_limited_channel_does_not_delay_another_channels_posts(engine, poster, emulator):
    ops = emulator.add_channel("ops", members=(HUMAN, BOT)).id
    # #crew is queued first and has more than its burst: its 4th and 5th posts must wait.
    for n in range(5):
        enqueue_message(engine, channel=CREW, key=f"crew{n}", text=f"crew {n}", role="coder")
    for n in range(3):
        enqueue_message(engine, channel=ops, key=f"ops{n}", text=f"ops {n}", role="tester")

    # One drainer only: while #crew waits out Retry-After, that same drainer serves #ops.
    report = drain(engine, poster, personas=PERSONAS, drainers=1, patience=30)

    assert report.next_due is None and report.posted == 8 and report.deferred == {}
    crew, ops_posts = arrivals(emulator, CREW), arrivals(emulator, ops)
    assert [text for _ts, text in crew] == [f"crew {n}" for n in range(5)]
    assert [text for _ts, text in ops_posts] == [f"ops {n}" for n in range(3)]
    refused = {limit.key for limit in emulator.rate_limited}
    assert refused == {CREW}  # #ops was never held back by Slack...
    waited_from = crew[3][0]
    assert all(ts < waited_from for ts, _text in ops_posts)  # ...nor by #crew's wait
    # Each post went once, and the refused ones were not looked for: Slack said no.
    assert len([c for c in emulator.calls if c.method == "chat.postMessage" and not c.error]) == 8
    assert not [c for c in emulator.calls if c.method.startswith("conversations.")]
    assert all(message_by_key(engine, key=f"crew{n}").status == "sent" for n in range(5))


def test_without_patience_a_rate_limited_channel_is_parked_for_the_next_drain(
    engine, poster, emulator
):
    for n in range(4):
        enqueue_message(engine, channel=CREW, key=f"crew{n}", text=f"crew {n}", role="coder")
    report = drain(engine, poster, personas=PERSONAS, drainers=1)
    assert report.posted == 3 and set(report.deferred) == {CREW}
    assert report.next_due is not None
    assert [text for _ts, text in arrivals(emulator, CREW)] == [f"crew {n}" for n in range(3)]
