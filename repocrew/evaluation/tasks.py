"""A task made into a repository: the base release's files, and (unless detection alone is
being measured) a `.repocrew.toml` carrying the manifest's install and test commands.

The manifest's commands were written for a plain shell at the unpacked release's root; they run
so here, by one rule for every task: the install is the environment's set-up (what it creates,
`.venv` or a node_modules folder anywhere, is the environment) and the test command is a shell
line run at the root with that environment on PATH.
"""

from __future__ import annotations

import json
from pathlib import Path

from repocrew.evaluation.manifest import Task

REPO_CONFIG = ".repocrew.toml"


def repository_files(tree: Path) -> dict[str, bytes]:
    """Every file of an unpacked release, by its path from the top folder."""
    return {
        str(path.relative_to(tree)): path.read_bytes()
        for path in sorted(tree.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(tree).parts
    }


def repo_config(task: Task) -> str:
    """The task's commands as the repository's explicit configuration."""
    return (
        "# repocrew eval: the manifest's commands, as the repository's own configuration\n"
        "[environment]\n"
        f"setup = [{json.dumps(task.install_command)}]\n\n"
        "[tests]\n"
        f'command = ["sh", "-c", {json.dumps(task.test_command)}]\n'
    )


def with_config(files: dict[str, bytes], task: Task, *, detect: bool) -> dict[str, bytes]:
    if detect:
        return files
    return {**files, REPO_CONFIG: repo_config(task).encode()}
