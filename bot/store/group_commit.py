"""Group commit for writes from several threads: the writes that queue meanwhile share a commit.

SQLite has one writer and each commit waits for the disk (synchronous=FULL), so drainer threads
that commit one at a time queue for one fsync each: the burst of 50 channels' standups spent
most of its time there. Here the thread that finds the writer free commits every write queued
so far in one transaction; if one of them fails, the transaction is rolled back and each write
is committed on its own, so the failure stays with its write and raises in the thread that
asked for it. A write returns only once the commit holding it is on disk: what each caller may
rely on is unchanged (a write may run twice, the first time rolled back).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Connection, Engine

Result = TypeVar("Result")
# A write: store statements run on the connection given, inside the caller's transaction.
Write = Callable[[Connection], Result]


@dataclass
class _Queued(Generic[Result]):
    write: Write[Result]
    result: Result | None = None
    error: BaseException | None = None
    done: bool = False

    def outcome(self) -> Result:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]


class GroupCommit:
    """Runs writes for many threads, several to a transaction; `commits` counts transactions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.commits = 0
        self._queued: list[_Queued] = []
        self._committing = False
        self._changed = threading.Condition()

    @property
    def waiting(self) -> int:
        """Writes queued for the next commit."""
        with self._changed:
            return len(self._queued)

    def __call__(self, write: Write[Result]) -> Result:
        """Run `write` in a transaction shared with the writes queued beside it; its result."""
        mine: _Queued[Result] = _Queued(write)
        with self._changed:
            self._queued.append(mine)
            while self._committing and not mine.done:
                self._changed.wait()
            if mine.done:  # committed in another thread's group
                return mine.outcome()
            self._committing = True
            group, self._queued = self._queued, []
        try:
            self._commit(group)
        finally:
            with self._changed:
                self._committing = False
                for queued in group:
                    queued.done = True
                self._changed.notify_all()
        return mine.outcome()

    def _commit(self, group: list[_Queued]) -> None:
        """All of `group` in one transaction; if any write fails, each again on its own."""
        try:
            with self.engine.begin() as connection:
                for queued in group:
                    queued.result = queued.write(connection)
        except Exception as error:  # noqa: BLE001 - raised again in the thread that asked
            if len(group) == 1:
                group[0].result, group[0].error = None, error
                return
            for queued in group:  # rolled back: nothing of the group was written
                self._commit([queued])
        else:
            self.commits += 1
