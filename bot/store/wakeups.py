"""Wake-ups within one process: a job queued here rings the workers of the same store at once,
so they need not wait for their next poll (workers in other processes still poll)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from weakref import WeakKeyDictionary

from sqlalchemy import Engine


class Doorbell:
    """Rings counted: a waiter that saw count `n` wakes at the first ring after it, even one
    that came before it started waiting (no wake-up is lost)."""

    def __init__(self) -> None:
        self._rung = threading.Condition()
        self.count = 0

    def ring(self) -> None:
        with self._rung:
            self.count += 1
            self._rung.notify_all()

    def wait(self, seen: int, timeout: float) -> bool:
        """Wait until rung after `seen`, or `timeout` seconds; True when rung."""
        with self._rung:
            return self._rung.wait_for(lambda: self.count != seen, timeout)


# Who listens for new jobs on each engine; an engine no longer used drops out by itself.
_listeners: WeakKeyDictionary[Engine, list[Callable[[], None]]] = WeakKeyDictionary()
_listeners_lock = threading.Lock()


def on_job_queued(engine: Engine, listener: Callable[[], None]) -> Callable[[], None]:
    """Call `listener` whenever this process queues a job on `engine`; returns the undo."""
    with _listeners_lock:
        _listeners.setdefault(engine, []).append(listener)

    def unsubscribe() -> None:
        with _listeners_lock:
            listeners = _listeners.get(engine, [])
            if listener in listeners:
                listeners.remove(listener)

    return unsubscribe


def job_queued(engine: Engine) -> None:
    """Tell this process's workers on `engine` that a job is due (after its commit)."""
    with _listeners_lock:
        listeners = list(_listeners.get(engine, ()))
    for listener in listeners:
        listener()
