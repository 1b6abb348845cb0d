"""What the long-running processes check before they start: what would otherwise only show
later as a dead job in the log every minute (a crew file with a typo, a key file that is not
there). A refusal is the line `repocrew doctor` prints for the same problem.

The doctor's checks import every SDK (seconds): they are imported when a process checks, not
when a failing command only needs `NotReady` to tell its error."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.operator.doctor import Check


class NotReady(Exception):
    """A check a process needs has failed; str() is doctor's line and its fix."""

    def __init__(self, check: Check) -> None:
        self.check = check
        super().__init__(f"{check.name}: {check.detail} → {check.fix}")


def ensure_ready(settings: Settings) -> None:
    """Raise `NotReady` for the first failed start-up check."""
    from bot.operator.doctor import check_crew, check_key_file

    for check in (check_key_file, check_crew):
        if (found := check(settings)).ok is False:
            raise NotReady(found)
