"""The runs' workspaces on disk: one clone per run, swept once the run has ended.

Every step clones afresh into its run's folder, and nothing reads a folder after its run ends,
yet each stayed: a worker's disk filled with a clone per run it ever did. Housekeeping removes
the folders of runs that ended (or that the store no longer knows), each under the run's lock,
so a folder in use is never swept.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from bot.runs.states import TERMINAL
from bot.store.engine import Engine
from bot.store.run_locks import driving
from bot.store.run_queries import states_of

_FOLDER = re.compile(r"run-(\d+)")  # `workspace_of`'s name


def workspaces_root(work_dir: Path) -> Path:
    """Where the runs' clones live under `REPOCREW_WORK_DIR`."""
    return work_dir / "workspaces"


def workspace_of(root: Path, run_id: int) -> Path:
    """Run `run_id`'s clone under `root`."""
    return root / f"run-{run_id}"


def sweep_ended(engine: Engine, root: Path) -> list[int]:
    """Remove the workspace of each run that ended or is unknown; their ids, ascending."""
    found = {
        int(match.group(1)): path
        for path in (root.iterdir() if root.is_dir() else ())
        if path.is_dir() and (match := _FOLDER.fullmatch(path.name))
    }
    states = states_of(engine, found)
    swept = []
    for run_id, path in sorted(found.items()):
        if run_id in states and states[run_id] not in TERMINAL:
            continue
        with driving(engine, run_id, lock_dir=root) as held:
            if held:
                shutil.rmtree(path, ignore_errors=True)
                swept.append(run_id)
    return swept
