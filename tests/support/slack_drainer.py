"""A real process draining the Slack outbox, which can SIGKILL itself at a chosen poster call.

Run as `python -m tests.support.slack_drainer`; settings come from REPOCREW_* variables.
`TEST_CRASH_AT="after:post:2"` kills the process right after Slack accepted the second post,
before the store records it: the worst place for an outbox. The product code runs
unmodified; only the poster it is handed is wrapped (as `crew_worker` wraps the forge; this
module stays light so that a killed drainer restarts in a second, not six).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from bot.ports.slack import personas_for
from bot.roster.loader import load_crew
from bot.settings import Settings
from bot.slack.outbox import drain
from bot.slack.poster import make_poster
from bot.store.engine import make_engine


class CrashingPoster:
    """Delegates to a real poster and SIGKILLs the process at one call: `after:post:2`."""

    def __init__(self, poster: Any, crash_at: str) -> None:
        self.poster = poster
        self.phase, self.method, nth = crash_at.split(":")
        self.nth, self.calls = int(nth), 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.poster, name)
        if name != self.method:
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls == self.nth and self.phase == "before":
                os.kill(os.getpid(), signal.SIGKILL)
            result = attribute(*args, **kwargs)
            if self.calls == self.nth:
                os.kill(os.getpid(), signal.SIGKILL)
            return result

        return call


def main() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    engine = make_engine(settings.database_url)
    poster = CrashingPoster(make_poster(settings), os.environ["TEST_CRASH_AT"])
    lease = float(os.environ.get("TEST_LEASE_SECONDS", "1"))
    drain(engine, poster, personas=personas_for(load_crew(None)), lease_seconds=lease)


def spawn(settings: Settings, *, crash_at: str, lease_seconds: float = 1) -> subprocess.Popen:
    """Start this module as a drainer with `settings`' store and Slack, dying at `crash_at`."""
    assert settings.slack_bot_token is not None
    env = os.environ | {
        "REPOCREW_DATABASE_URL": settings.database_url,
        "REPOCREW_SLACK_BOT_TOKEN": settings.slack_bot_token.get_secret_value(),
        "REPOCREW_SLACK_API_URL": settings.slack_api_url,
        "TEST_CRASH_AT": crash_at,
        "TEST_LEASE_SECONDS": str(lease_seconds),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.slack_drainer"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


if __name__ == "__main__":
    main()
