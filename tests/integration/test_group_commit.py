"""Group commit (`bot/store/group_commit.py`): writes from several threads that queue while a
commit is under way share the next one; each write still succeeds or fails on its own."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from bot.store.group_commit import GroupCommit
from bot.store.models import utcnow
from bot.store.slack_leases import claim_due_messages
from bot.store.slack_outbox import enqueue_message, message_by_key

CHANNELS = ["C1", "C2", "C3", "C4"]


def claim(channel: str) -> Callable[[Connection], Any]:
    return functools.partial(
        claim_due_messages,
        channel=channel,
        worker_id=f"drainer-{channel}",
        now=utcnow(),
        limit=10,
        lease_seconds=60,
    )


def refused_after_claiming(connection: Connection) -> None:
    claim("C3")(connection)
    raise ValueError("refused")


class Writers:
    """Threads handing writes to one GroupCommit, the first held inside its commit until
    `release()`; `outcomes` maps each write's name to its result or exception."""

    def __init__(self, group: GroupCommit) -> None:
        self.group, self.outcomes, self.threads = group, {}, []
        self.inside, self.finish = threading.Event(), threading.Event()

    def hold_first(self, name: str, write: Callable[[Connection], Any]) -> None:
        def held(connection: Connection) -> Any:
            self.inside.set()
            assert self.finish.wait(30)
            return write(connection)

        self.start(name, held)
        assert self.inside.wait(30)

    def start(self, name: str, write: Callable[[Connection], Any]) -> None:
        def run() -> None:
            try:
                self.outcomes[name] = self.group(write)
            except Exception as error:  # noqa: BLE001 - the test reads it
                self.outcomes[name] = error

        thread = threading.Thread(target=run)
        self.threads.append(thread)
        thread.start()

    def release_when_waiting(self, count: int) -> None:
        for _ in range(3000):  # until the queued writes are all waiting, whatever the machine
            if self.group.waiting == count:
                break
            time.sleep(0.01)
        assert self.group.waiting == count
        self.finish.set()
        for thread in self.threads:
            thread.join(30)


def enqueue(engine) -> None:
    for channel in CHANNELS:
        enqueue_message(engine, channel=channel, key=channel, text=f"to {channel}", role="coder")


def test_writes_queued_during_a_commit_share_the_next_one(engine):
    enqueue(engine)
    writers = Writers(GroupCommit(engine))
    writers.hold_first("C1", claim("C1"))
    for channel in CHANNELS[1:]:
        writers.start(channel, claim(channel))
    writers.release_when_waiting(3)

    assert writers.group.commits == 2  # four writes: the held one, then the other three together
    for channel in CHANNELS:
        [claimed] = writers.outcomes[channel]
        assert claimed.key == channel
        assert message_by_key(engine, key=channel).lease_owner == f"drainer-{channel}"


def test_a_write_that_fails_is_rolled_back_alone_and_raises_in_its_own_thread(engine):
    enqueue(engine)
    writers = Writers(GroupCommit(engine))
    writers.hold_first("C1", claim("C1"))
    writers.start("C2", claim("C2"))
    writers.start("refused", refused_after_claiming)
    writers.start("C4", claim("C4"))
    writers.release_when_waiting(3)

    # The held write, then C2 and C4 each alone: the group they shared with the refused write
    # was rolled back and its writes were committed one by one.
    assert writers.group.commits == 3
    assert isinstance(writers.outcomes["refused"], ValueError)
    assert message_by_key(engine, key="C3").lease_owner is None  # its claim was rolled back
    for channel in ("C1", "C2", "C4"):
        assert message_by_key(engine, key=channel).lease_owner == f"drainer-{channel}"
