"""What the soak measures besides latency: the queue's age while it runs, the drain, and what
was lost or done twice, counted from the store and the emulators."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from datetime import datetime, timezone

from sqlalchemy import func, select

from bench.soak_stream import REPO, Tally
from bot.store.models import Delivery, Job, JobStatus
from emulators.github import GitHubEmulator
from emulators.slack import SlackEmulator

NO_RUN = re.compile(r"There is no run `(\d+)`")


class QueueWatch:
    """Samples the age of the oldest due, unclaimed job until stopped."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.max_age = 0.0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.25):
            self.max_age = max(self.max_age, queue_age(self.engine))

    def __enter__(self) -> QueueWatch:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop.set()
        self.thread.join(5)


def queue_age(engine) -> float:
    now = datetime.now(timezone.utc)  # noqa: UP017 - the store's clock is UTC too
    with engine.connect() as connection:
        oldest = connection.execute(
            select(func.min(Job.run_after)).where(
                Job.status == JobStatus.QUEUED, Job.run_after <= now
            )
        ).scalar()
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=timezone.utc)  # noqa: UP017
    return max(0.0, (now - oldest).total_seconds())


def busy_jobs(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(
            select(func.count()).where(Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
        ).scalar_one()


def settle(engine, hub, chat, tally: Tally, timeout: float) -> float:
    """Wait for the queue to drain and every ask to be answered; returns the seconds waited."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        answered = github_replies(hub, tally.github_asks)
        if (
            not busy_jobs(engine)
            and sum(1 for n in tally.github_asks if answered[n]) == len(tally.github_asks)
            and set(tally.slack_asks) <= set(slack_replies(chat))
        ):
            break
        time.sleep(0.5)
    time.sleep(1.0)  # a late duplicate would land now
    return time.monotonic() - began


def github_replies(hub: GitHubEmulator, asked: list[int]) -> Counter:
    """The App's comments per issue (only the asks' issues have any)."""
    repo = hub.repo(REPO)
    counts: Counter = Counter()
    wanted = set(asked)
    for number in wanted:
        issue = repo.issues.get(number)
        for comment in list(issue.comments) if issue else []:
            if comment.user.login.endswith("[bot]"):
                counts[number] += 1
    return counts


def slack_replies(chat: SlackEmulator) -> list[int]:
    """The numbers the ephemeral answers name, one entry per answer."""
    with chat.lock:
        texts = [e.text for e in chat.workspace.ephemerals]
    return [int(m.group(1)) for text in texts if (m := NO_RUN.search(text))]


def audit(engine, tally: Tally) -> tuple[int, int]:
    """(lost, duplicated) GitHub deliveries: missing or unworked, and worked twice."""
    with engine.connect() as connection:
        stored = dict(
            connection.execute(
                select(Delivery.delivery_id, Delivery.id).where(Delivery.source == "github")
            ).all()
        )
        jobs = dict(
            connection.execute(
                select(Job.delivery_id, func.count())
                .where(Job.delivery_id.is_not(None), Job.status == JobStatus.DONE)
                .group_by(Job.delivery_id)
            ).all()
        )
        queued = set(
            connection.execute(
                select(Delivery.delivery_id).where(
                    Delivery.source == "github", Delivery.outcome == "queued"
                )
            ).scalars()
        )
    lost = sum(
        1
        for guid in tally.accepted
        if guid not in stored or (guid in queued and not jobs.get(stored[guid]))
    )
    duplicated = sum(count - 1 for count in jobs.values() if count > 1)
    return lost, duplicated


def dead_jobs(engine) -> dict[str, int]:
    """Jobs that gave up, by kind and first line of the error (what to look at first)."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(Job.kind, Job.last_error).where(Job.status == JobStatus.DEAD)
        ).all()
    return dict(
        Counter(f"{kind}: {(error or '').strip().splitlines()[-1:]}" for kind, error in rows)
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def losses_and_duplicates(
    engine, hub: GitHubEmulator, chat: SlackEmulator, tally: Tally
) -> tuple[dict[str, int], dict[str, int]]:
    """What was lost and what was done more than once, each by kind (see the module docstring
    of `bench/soak.py` for what counts)."""
    lost_events, twice_worked = audit(engine, tally)
    replies = github_replies(hub, tally.github_asks)
    answers = Counter(slack_replies(chat))
    losses = {
        "events": lost_events,
        "github_asks": sum(1 for n in tally.github_asks if not replies[n]),
        "slack_asks": sum(1 for n in tally.slack_asks if not answers[n]),
        "refused": sum(tally.refused.values()),  # an ask the app refused got lost
    }
    duplicates = {
        "jobs": twice_worked,
        "github_replies": sum(count - 1 for count in replies.values() if count > 1),
        "slack_replies": sum(count - 1 for count in answers.values() if count > 1),
    }
    return losses, duplicates
