"""A pytest from the code's own time, for a set-up that adds pytest or leaves it unpinned.

A new pytest major removes what the one before deprecated: pytest 8 dropped nose-style
`setup()` methods, pytest 9 the `path` argument of hooks and made its deprecations errors. A
release tested with the pytest of its day then fails to collect on today's: every test an
error, nothing learnt. So a set-up that lets pip pick pytest is capped below the first major
released after the code's date (its base commit, see `bot.workspace.history`). The cap never
goes below pytest 8: pytest 7.4 is the oldest that runs on every interpreter the sandbox offers.
A project cannot pin a pytest newer than its code, so the cap never contradicts its own pins.
"""

from __future__ import annotations

from datetime import UTC, datetime

# Each major from pytest 8 on, with the upload time of its first release on PyPI.
MAJORS = (
    (8, datetime(2024, 1, 27, 21, 47, tzinfo=UTC)),
    (9, datetime(2025, 11, 8, 17, 25, tzinfo=UTC)),
)


def pytest_cap(code_date: datetime | None) -> int | None:
    """The first pytest major released after `code_date` (the set-up asks for `pytest<N`);
    None when the code is newer than every major listed, or its date is unknown."""
    if code_date is None:
        return None
    when = code_date if code_date.tzinfo else code_date.replace(tzinfo=UTC)
    return next((major for major, released in MAJORS if when < released), None)
