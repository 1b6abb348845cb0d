"""In the sandbox the workspace's secret files show empty, unless the operator opts them in:
for tests and commands (`readable_secrets`) and for a repository's set-up alike."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.environments.build import Environment
from bot.environments.detect import detect_environment
from bot.environments.test_run import run_command
from bot.roster.loader import apply_repo_overrides, load_crew
from bot.sandbox import SandboxLimits, sandbox_status
from tests.integration.test_environments import _environments, _repo

pytestmark = pytest.mark.skipif(
    not sandbox_status().available, reason=f"no sandbox: {sandbox_status().reason}"
)
LIMITS = SandboxLimits(wall_seconds=60)
FILES = {
    ".env": "DB_PASSWORD=hunter2-Correct-Horse\n",
    "deploy/keys/id_rsa": "not really a key\n",
    "README.md": "# x\n",
}


def _plan(root, readable=()):
    crew = load_crew(None)
    plan = detect_environment(root, tests=crew.tests, environment=crew.environment)
    return replace(plan, readable_secrets=tuple(readable))


def test_commands_see_secret_files_empty_unless_opted_in(tmp_path):
    root = _repo(tmp_path / "repo", FILES)
    command = "wc -c < .env; wc -c < deploy/keys/id_rsa; cat README.md; echo x > .env"
    hidden = run_command(root, Environment(_plan(root)), command, limits=LIMITS)
    assert hidden.output.split()[:4] == ["0", "0", "#", "x"], hidden.output
    assert "Read-only file system" in hidden.output  # and cannot be written
    shown = run_command(
        root, Environment(_plan(root)), "cat .env", limits=LIMITS, readable_secrets=(".env",)
    )
    assert shown.output.strip() == "DB_PASSWORD=hunter2-Correct-Horse"
    assert (root / ".env").read_text() == FILES[".env"]  # the host's file is untouched


@pytest.mark.parametrize(("readable", "seen"), [((), "0"), ((".env",), "34")])
def test_a_set_up_sees_secret_files_only_when_opted_in(tmp_path, readable, seen):
    root = _repo(tmp_path / "repo", FILES)
    setup = '[environment]\nsetup = ["mkdir -p .venv && wc -c < .env > .venv/saw"]\n'
    crew = apply_repo_overrides(load_crew(None), setup)
    plan = detect_environment(root, tests=crew.tests, environment=crew.environment)
    built = _environments(tmp_path).prepare(root, replace(plan, readable_secrets=readable))
    venv = next(source for source, target in built.mounts if target == ".venv")
    assert (venv / "saw").read_text().strip() == seen
