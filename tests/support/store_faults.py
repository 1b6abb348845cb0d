"""A store that fails on cue, as a database restarting or a connection lost would: a listener
on the real engine raises before chosen statements reach the database (no function of ours is
swapped)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.exc import OperationalError


def _lost_connection(statement: str, parameters: object) -> BaseException:
    return OperationalError(statement, parameters, ConnectionError("the store went away"))


@contextmanager
def store_fails(
    engine,
    *,
    when: Callable[[str], bool],
    times: int = 1,
    after: int = 0,
    error: Callable[[str, object], BaseException] = _lost_connection,
) -> Iterator[list[str]]:
    """Of the statements for which `when(sql)` is true, the first `after` go through and the
    next `times` fail with `error` (a lost connection by default); yields those that failed."""
    failed: list[str] = []
    seen = [0]

    def before_cursor_execute(_conn, _cursor, statement, parameters, _context, _many) -> None:
        if not when(statement):
            return
        seen[0] += 1
        if seen[0] > after and len(failed) < times:
            failed.append(statement)
            raise error(statement, parameters)

    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield failed
    finally:
        event.remove(engine, "before_cursor_execute", before_cursor_execute)
