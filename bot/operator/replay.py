"""`repocrew replay`: run a finished run again from its transcript, with no model and no network.

The replay is a new run with the original's task and configuration whose ledger holds the
original's model calls; it works on a mirror of the repository and posts to a forge file of
its own, so nothing the original made is touched. It ends where the original ended if the
crew's code still does what it did; where it no longer asks the same questions, the replay
stops and says at which call, and what changed in the prompts (`bot/llm/drift.py`). A run
recorded without the repository map (before it existed, or with `REPOCREW_REPO_MAP_CHARS=0`)
is replayed without it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bot.llm.drift import PROMPTS_CHANGED, carries_repository
from bot.local_forge import LocalForge
from bot.runs.driver import drive
from bot.runs.lifecycle import default_branch
from bot.runs.progress import create_run
from bot.settings import Settings
from bot.store.engine import Engine
from bot.store.model_calls import copy_calls, transcript
from bot.store.runs import get_run
from bot.wiring import services_for


@dataclass(frozen=True)
class ReplayResult:
    original_run: int
    original_state: str
    replay_run: int
    replay_state: str
    reason: str
    forge_file: Path

    @property
    def same_outcome(self) -> bool:
        return self.original_state == self.replay_state

    @property
    def prompts_changed(self) -> bool:
        """The replay stopped because the crew's prompts are not those of the recording."""
        return self.reason.startswith(PROMPTS_CHANGED)


def replay_run(engine: Engine, settings: Settings, run_id: int) -> ReplayResult:
    original = get_run(engine, run_id)
    home = settings.work_dir / "replays" / f"run-{run_id}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    mirror = home / "origin.git"
    _git("clone", "--quiet", "--mirror", original.clone_url, str(mirror))
    if original.branch:  # start from the repository as the original run found it
        _git("-C", str(mirror), "update-ref", "-d", f"refs/heads/{original.branch}")
    replay_id = create_run(
        engine,
        repo=original.repo,
        clone_url=str(mirror),
        title=original.title,
        task=original.task,
        requested_by=original.requested_by,
        issue_number=original.issue_number,
        forge="local",
        config=json.loads(original.config),
    )
    copy_calls(engine, source=run_id, target=replay_id)
    forge = LocalForge(
        home / "forge.json", clone_url=str(mirror), default_branch=default_branch(str(mirror))
    )
    services = services_for(engine, settings, replay_id, forge=forge)
    services.model = None  # offline: every answer must come from the transcript
    if not _recorded_with_map(engine, run_id):
        services.repo_map_chars = 0
    state = drive(services, replay_id)
    return ReplayResult(
        original_run=run_id,
        original_state=original.state,
        replay_run=replay_id,
        replay_state=str(state),
        reason=get_run(engine, replay_id).reason,
        forge_file=forge.path,
    )


def _recorded_with_map(engine: Engine, run_id: int) -> bool:
    """Whether the run's first model call carried the repository map."""
    calls = transcript(engine, run_id)
    return not calls or carries_repository(calls[0]["saw"])


def _git(*args: str) -> None:
    subprocess.run(["git", *args], check=True, capture_output=True, text=True, timeout=120)
