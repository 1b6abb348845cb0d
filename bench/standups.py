"""Standup scale benchmark: 50 channels × 6 roles through Slack's 1 message/s/channel limit.

The crew is the default roster (a lead and five agents) holding its standup in `--channels`
channels (`[standup] channels`). The Slack emulator runs in a process of its own with its default
chat.postMessage policy, Slack's own: about one message per second per channel with a burst
(`emulators/slack/ratelimit.py`, `DEFAULT_POLICIES`); nothing here loosens it. repocrew holds
the standups as the `standup.check` job does (`check_standups`: a claimed row per channel and
day, every post queued in the outbox) and drains the outbox as the `slack.outbox` job does
(`drain_job`, the real poster over slack_sdk, called again at `next_due` as the job is
re-queued), on a fresh SQLite store (or `--database-url`).

`seconds` runs from the standups being held (every post queued; holding them is timed apart,
it is store work the rate limit has no part in) to the last post recorded sent. The least time the
rate limit allows is, per channel, (posts − burst) / rate, and the most of that over the
channels, as channels drain in parallel: `bound_ratio` is seconds over that minimum. Every
channel must end with one standup thread (the lead's opening, each agent, the lead's summary,
in order, once each), else the exit status is 1. Last line:

    standups: channels=50 posts=<n> seconds=<t> bound_ratio=<t / minimum>

    .venv/bin/python bench/standups.py [--channels 50] [--database-url URL]
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import sys
import tempfile
import time
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.roster.loader import load_crew, roster_text  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.slack.outbox import drain_job  # noqa: E402
from bot.slack.poster import make_poster  # noqa: E402
from bot.standups.run import check_standups  # noqa: E402
from bot.store.engine import make_engine  # noqa: E402
from bot.store.migrate import upgrade  # noqa: E402
from bot.store.models import utcnow  # noqa: E402
from emulators.server import running  # noqa: E402
from emulators.slack import DEFAULT_TOKEN, SlackEmulator, create_app  # noqa: E402
from emulators.slack.defaults import BOT_USER, HUMAN  # noqa: E402
from emulators.slack.ratelimit import DEFAULT_POLICIES  # noqa: E402

MONDAY_NINE = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # the standup's cron fires then
POLICY = DEFAULT_POLICIES["chat.postMessage"]


def crew_file(folder: Path, channels: list[str]) -> Path:
    """The default roster holding its standup in every one of `channels`."""
    listed = ", ".join(f'"{channel}"' for channel in channels)
    text = roster_text("default").replace('# channels = ["#crew"]', f"channels = [{listed}]")
    path = folder / "crew.toml"
    path.write_text(text, encoding="utf-8")
    return path


def minimum_seconds(posts_per_channel: list[int]) -> float:
    """The least time Slack's limit allows: the slowest channel's (posts − burst) / rate."""
    return max(max(0, posts - POLICY.burst) / POLICY.per_second for posts in posts_per_channel)


def serve_slack(channels: list[str], pipe: Connection) -> None:
    """The Slack emulator, in a process of its own as Slack is: sends its base URL, then, when
    asked, what each channel shows (who posted, in order, threads as nested lists) and how
    many posts it refused with 429."""
    emulator = SlackEmulator()  # Slack's own limits: DEFAULT_POLICIES
    for channel in channels:
        emulator.add_channel(channel.removeprefix("#"), members=(HUMAN, BOT_USER))
    with running(create_app(emulator)) as base:
        pipe.send(base)
        pipe.recv()
        shown, times = {}, {}
        for channel in channels:
            posts = emulator.channel_transcript(channel).posts
            shown[channel] = [[p.persona, *(r.persona for r in p.replies)] for p in posts]
            times[channel] = sorted(float(m.ts) for p in posts for m in (p, *p.replies))
        pipe.send((shown, times, len(emulator.rate_limited)))


def check_threads(shown: dict[str, list[list[str]]], personas: list[str]) -> list[str]:
    """What is wrong with the standup threads: each channel holds exactly one, in order."""
    return [f"{channel}: {said}" for channel, said in shown.items() if said != [personas]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    return run([f"#standup-{n:02d}" for n in range(1, args.channels + 1)], args.database_url)


def run(channels: list[str], database_url: str | None) -> int:
    """Hold the standups, drain them against the emulator, and report."""
    pipe, child_end = multiprocessing.Pipe()
    slack = multiprocessing.get_context("fork").Process(
        target=serve_slack, args=(channels, child_end), daemon=True
    )
    slack.start()
    base = pipe.recv()
    with tempfile.TemporaryDirectory() as folder:
        url = database_url or f"sqlite:///{Path(folder) / 'repocrew.db'}"
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=url,
            slack_bot_token=DEFAULT_TOKEN,
            slack_api_url=f"{base}/api/",
            crew_file=crew_file(Path(folder), channels),
        )
        engine = make_engine(url)
        upgrade(engine)
        crew = load_crew(settings.crew_file)
        poster = make_poster(settings)

        holding = time.monotonic()
        held = check_standups(engine, crew, now=MONDAY_NINE)
        started, epoch = time.monotonic(), time.time()
        holding = started - holding
        drains = 0
        while True:
            drained = drain_job(engine, settings, poster=poster)
            drains += 1
            if drained.next_due is None:
                break
            time.sleep(max(0.0, (drained.next_due - utcnow()).total_seconds()))
        seconds = time.monotonic() - started
    pipe.send("report")
    shown, times, refused = pipe.recv()
    slack.terminate()
    return print_report(
        crew,
        held,
        shown,
        times,
        refused,
        seconds=seconds,
        holding=holding,
        drains=drains,
        epoch=epoch,
    )


def print_report(crew, held, shown, times, refused, *, seconds, holding, drains, epoch) -> int:
    """Print what the run did and its last line; 1 when a channel's thread is wrong."""
    lead = crew.roles[crew.lead].slack.username
    agents = [role.slack.username for key, role in crew.roles.items() if key != crew.lead]
    problems = check_threads(shown, [lead, *agents, lead])
    problems += [f"{r.channel}: {r.outcome}" for r in held if r.outcome != "posted"]
    per_channel = [result.messages for result in held]
    posts = sum(per_channel)
    bound = minimum_seconds(per_channel) if per_channel else 0.0
    print(  # noqa: T201 - the bench's report
        f"held {len(held)} standups in {holding:.2f} s; {drains} drains;"
        f" {refused} posts refused with 429 and retried;"
        f" the limit allows {bound:.1f} s at best ({POLICY})"
    )
    firsts = [posted[0] - epoch for posted in times.values() if posted]
    lasts = [posted[-1] - epoch for posted in times.values() if posted]
    if firsts:
        print(  # noqa: T201
            f"first posts {min(firsts):.2f}–{max(firsts):.2f} s in,"
            f" last posts {min(lasts):.2f}–{max(lasts):.2f} s in"
        )
    for problem in problems[:10]:
        print(f"wrong: {problem}")  # noqa: T201
    ratio = seconds / bound if bound else float("inf")
    print(  # noqa: T201
        f"standups: channels={len(shown)} posts={posts} seconds={seconds:.2f}"
        f" bound_ratio={ratio:.2f}"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
