"""A bounded pool of channel drainers: each channel goes at its own pace, none waits on another.

Slack limits posts per channel, so channels are independent queues. The pool hands the next
channel that may send to a free thread; a channel told to wait (Retry-After) goes back in line
with its time and the thread takes another channel meanwhile, so one slow or rate-limited
channel never holds the others. At most one thread serves a channel at a time, which keeps
its posts in order.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

Work = TypeVar("Work")
# One turn at a channel's work: None when the channel is done, else (seconds to wait, the work
# to take up again after them).
Turn = Callable[[Work], "tuple[float, Work] | None"]


class DrainerPool(Generic[Work]):
    """Runs `turn` over the channels' work on at most `size` threads until all is done."""

    def __init__(self, turn: Turn[Work], *, size: int, clock: Callable[[], float] = time.monotonic):
        self.turn, self.size, self.clock = turn, max(1, size), clock
        self._line: list[tuple[float, int, Work]] = []  # (when it may go on, order, work)
        self._order = itertools.count()
        self._busy = 0
        self._failure: BaseException | None = None
        self._changed = threading.Condition()

    def run(self, work: Iterable[Work]) -> None:
        """Serve all of `work` (and what it is put back as); re-raise a turn's failure."""
        now = self.clock()
        for item in work:
            heapq.heappush(self._line, (now, next(self._order), item))
        threads = min(self.size, len(self._line))
        if threads == 1:
            self._serve()  # one channel: no thread needed
        else:
            pool = [threading.Thread(target=self._serve, daemon=True) for _ in range(threads)]
            for thread in pool:
                thread.start()
            for thread in pool:
                thread.join()
        if self._failure is not None:
            raise self._failure

    def _serve(self) -> None:
        while (item := self._next()) is not None:
            again = None
            try:
                again = self.turn(item)
            except BaseException as failure:  # noqa: BLE001 - re-raised by run()
                with self._changed:
                    self._failure = self._failure or failure
                    self._line.clear()  # stop: the job fails and is tried again
            finally:
                with self._changed:
                    self._busy -= 1
                    if again is not None and self._failure is None:
                        wait, item = again
                        heapq.heappush(self._line, (self.clock() + wait, next(self._order), item))
                    self._changed.notify_all()

    def _next(self) -> Work | None:
        """The next work whose time has come, waiting for it; None when nothing is left."""
        with self._changed:
            while True:
                if not self._line:
                    if self._busy == 0:
                        return None
                    self._changed.wait()  # a busy thread may put work back
                    continue
                when = self._line[0][0]
                now = self.clock()
                if when <= now:
                    self._busy += 1
                    return heapq.heappop(self._line)[2]
                self._changed.wait(when - now)
