"""The Slack emulator's pure parts: rate-limit policy, timestamps, signing, transcript text."""

from __future__ import annotations

from emulators.slack import SlackEmulator, create_app
from emulators.slack.outbound import signed_headers
from emulators.slack.ratelimit import DEFAULT_POLICIES, RateLimiter
from emulators.slack.state import Workspace
from emulators.slack.transcript import ChannelTranscript, Post, render_transcript
from tests.support.signing import slack_headers


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_default_post_message_policy_is_one_per_second_per_channel_with_a_burst_of_3():
    clock = FakeClock()
    limiter = RateLimiter(clock=clock)
    assert limiter.policies == DEFAULT_POLICIES
    post = {"channel": "C0002"}

    assert [limiter.check("chat.postMessage", post) for _ in range(3)] == [None] * 3
    refused = limiter.check("chat.postMessage", post)
    assert refused is not None and (refused.retry_after, refused.key) == (1, "C0002")
    assert limiter.check("chat.postMessage", {"channel": "C0001"}) is None  # per channel

    clock.now += 0.5
    assert limiter.check("chat.postMessage", post) is not None
    clock.now += 0.5
    assert limiter.check("chat.postMessage", post) is None  # one message a second
    assert limiter.check("chat.postMessage", post) is not None
    clock.now += 60  # a quiet minute refills the burst, not more
    assert [limiter.check("chat.postMessage", post) is None for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]
    assert len(limiter.refusals) == 4
    assert limiter.check("conversations.history", {"channel": "C0002"}) is None  # no policy


def test_forced_refusals_come_first_and_run_out():
    limiter = RateLimiter(clock=FakeClock())
    limiter.force("users.info", times=2, retry_after=30)
    first, second = (limiter.check("users.info", {}) for _ in range(2))
    assert first is not None and second is not None and first.retry_after == 30
    assert limiter.check("users.info", {}) is None


def test_timestamps_are_unique_and_increasing_even_with_a_stopped_clock():
    workspace = Workspace(clock=FakeClock(1700000000.0001))
    stamps = [workspace.next_ts() for _ in range(3)]
    assert stamps == ["1700000000.000100", "1700000000.000101", "1700000000.000102"]


def test_outbound_signature_matches_slacks_scheme():
    body = b"command=%2Fcrew&text=help"
    ours = signed_headers("s3cret", body, "application/x-www-form-urlencoded", 1700000000)
    reference = slack_headers("s3cret", body, "application/x-www-form-urlencoded", 1700000000)
    assert ours["X-Slack-Signature"] == reference["X-Slack-Signature"]
    assert ours["X-Slack-Request-Timestamp"] == "1700000000"


def test_render_transcript():
    reply = Post("2.0", "U0002", "repocrew", "Coder", ":hammer:", "Fixed\nand tested")
    plan = Post(
        "1.0",
        "U0002",
        "repocrew",
        "Planner",
        None,
        "Plan",
        edited=True,
        reactions=(("eyes", 2),),
        replies=(reply,),
    )
    human = Post("3.0", "U0001", "Ada Lovelace", None, None, "thanks")
    channels = [
        ChannelTranscript("C0001", "general", ()),
        ChannelTranscript("C0002", "crew", (plan, human)),
    ]
    assert render_transcript(channels) == (
        "#crew\n"
        "  Planner (via repocrew) (edited): Plan\n"
        "    :eyes: 2\n"
        "    ↳ Coder :hammer: (via repocrew): Fixed\n"
        "        and tested\n"
        "  Ada Lovelace: thanks\n"
    )
    assert render_transcript(channels[:1]) == "(no messages)\n"


def test_the_default_app_has_the_documented_workspace():
    app = create_app()
    emulator: SlackEmulator = app.state.emulator
    assert [(c.id, c.name) for c in emulator.workspace.channels.values()] == [
        ("C0001", "general"),
        ("C0002", "crew"),
    ]
    reply = emulator.dispatch("auth.test", "xoxb-emulator", {})
    assert (reply.status, reply.body["team_id"], reply.body["user_id"]) == (200, "T0001", "U0002")
