"""A local twin of Slack's Web API, Events API and interactivity, for tests and the offline demo.

`create_app()` alone serves a default workspace: team T0001 with #general (C0001) and #crew
(C0002), a human U0001 and the bot user U0002 (bot B0001, app A0001) whose token is
`xoxb-emulator`; the bot is in #crew only. Point `slack_sdk.WebClient(base_url=url + "/api/")`
at it. `chat.postMessage` is limited to 1 message/s per channel with a burst of 3 (429 with
`Retry-After` beyond that); pass `rate_limits=` to `SlackEmulator` to change it.
"""

from .app import create_app
from .emulator import DEFAULT_SIGNING_SECRET, DEFAULT_TOKEN, Reply, SlackEmulator
from .ratelimit import Policy
from .transcript import ChannelTranscript, Post, render_transcript

__all__ = [
    "DEFAULT_SIGNING_SECRET",
    "DEFAULT_TOKEN",
    "ChannelTranscript",
    "Policy",
    "Post",
    "Reply",
    "SlackEmulator",
    "create_app",
    "render_transcript",
]
