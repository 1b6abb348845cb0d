"""A real worker process driving team runs, which can SIGKILL itself at a chosen forge call.

Run as `python -m tests.support.crew_worker`; settings come from REPOCREW_* variables.
`TEST_CRASH_AT="after:create_review:1"` kills the process right after the first review is
posted (`before:` kills on entry), the way a power cut would: no cleanup, no transition saved.
The product code runs unmodified; only the forge it is handed is wrapped.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from bot.config import Settings
from bot.crew.engine import drive
from bot.crew.factory import CREW_RUN_JOB, FORGES, services_for
from bot.crew.runs import get_run
from bot.store.engine import make_engine
from jobs.handlers import JOB_HANDLERS
from jobs.worker import Worker


class CrashingForge:
    """Delegates to a real forge and kills the process at one call."""

    def __init__(self, forge: Any, crash_at: str) -> None:
        self.forge = forge
        phase, self.method, nth = crash_at.split(":")
        self.before = phase == "before"
        self.nth = int(nth)
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.forge, name)
        if name != self.method:
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            crash = self.calls == self.nth
            if crash and self.before:
                os.kill(os.getpid(), signal.SIGKILL)
            result = attribute(*args, **kwargs)
            if crash:
                os.kill(os.getpid(), signal.SIGKILL)
            return result

        return call


def main() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    engine = make_engine(settings.database_url)
    crash_at = os.environ.get("TEST_CRASH_AT", "")

    def crew_run(job, engine, settings) -> None:
        run_id = int(job.args["run_id"])
        run = get_run(engine, run_id)
        forge = FORGES[run.forge](run, settings)
        if crash_at:
            forge = CrashingForge(forge, crash_at)
        drive(services_for(engine, settings, run_id, forge=forge), run_id)

    worker = Worker(engine, settings, handlers={**JOB_HANDLERS, CREW_RUN_JOB: crew_run})
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    worker.run()


if __name__ == "__main__":
    main()
