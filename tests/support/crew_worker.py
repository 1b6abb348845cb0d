"""A real worker process driving team runs, which can SIGKILL itself at a chosen forge call.

Run as `python -m tests.support.crew_worker`; settings come from REPOCREW_* variables.
`TEST_CRASH_AT="after:create_review:1"` kills the process right after the first review is
posted (`before:` kills on entry), the way a power cut would: no cleanup, no transition saved.
The product code runs unmodified; only the forge it is handed is wrapped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from bot.runs.driver import drive
from bot.runs.lifecycle import CREW_RUN_JOB
from bot.settings import Settings
from bot.store.engine import make_engine
from bot.store.runs import get_run
from bot.wiring import Wiring
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

    wiring = Wiring(settings, engine)

    def crew_run(job, _services) -> None:
        run_id = int(job.args["run_id"])
        forge = wiring.forges[get_run(engine, run_id).forge](get_run(engine, run_id))
        if crash_at:
            forge = CrashingForge(forge, crash_at)
        drive(wiring.step_services(run_id, forge=forge), run_id)

    worker = Worker(wiring.services(), handlers={**JOB_HANDLERS, CREW_RUN_JOB: crew_run})
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    worker.run()


def spawn(settings: Settings, *, anthropic_key: str, crash_at: str = "") -> subprocess.Popen:
    """Start this module as a worker process with `settings` (and a short lease, so a
    restarted worker takes a killed one's job over quickly)."""
    env = os.environ | {
        "REPOCREW_DATABASE_URL": settings.database_url,
        "REPOCREW_WORK_DIR": str(settings.work_dir),
        "REPOCREW_GITHUB_API_URL": settings.github_api_url,
        "ANTHROPIC_API_KEY": anthropic_key,
        "REPOCREW_ANTHROPIC_BASE_URL": settings.anthropic_base_url,
        "REPOCREW_CREW_FILE": str(settings.crew_file),
        "REPOCREW_JOB_LEASE_SECONDS": "1",
        "REPOCREW_WORKER_POLL_SECONDS": "0.05",
        "REPOCREW_JOB_BACKOFF_SECONDS": "0.1",
        "TEST_CRASH_AT": crash_at,
    }
    if settings.github_app_id is not None and settings.github_private_key is not None:
        env["REPOCREW_GITHUB_APP_ID"] = str(settings.github_app_id)
        env["REPOCREW_GITHUB_PRIVATE_KEY"] = settings.github_private_key.get_secret_value()
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.crew_worker"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


if __name__ == "__main__":
    main()
