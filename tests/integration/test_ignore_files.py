"""What stays out: the build context holds what deploy/Dockerfile copies and no key, .env, store
or virtualenv; git never offers the key `repocrew setup github` writes, nor `.env`.

The context is computed by the docker SDK's .dockerignore matcher (a port of Docker's own), so
no engine is needed; git's own `check-ignore` judges .gitignore.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from docker.utils.build import exclude_paths

from tests.conftest import REPO
from tests.integration.test_deploy import DOCKERFILE

DOCKERIGNORE = REPO / ".dockerignore"

# Never in the context, wherever they lie: what a working folder holds beside the code.
NEVER = [
    ".venv/lib/python3.11/site-packages/big.py",
    ".git/HEAD",
    ".cache/tools/helm",
    ".pytest_cache/v/cache/nodeids",
    ".ruff_cache/0.6/x",
    ".repocrew/workspaces/run-1/secret.txt",
    "repocrew.db",
    "repocrew.db-wal",
    ".env",
    ".env.production",
    "repocrew.private-key.pem",
    "bot/roster/leaked.pem",
    "emulators/github/server.key",
    "bot/.env",
    "bot/__pycache__/settings.cpython-311.pyc",
    "tests/test_x.py",
    "bench/results/soak.json",
]


def copied_sources() -> list[str]:
    """The paths the build stage COPYs from the context (not `--from=` another stage)."""
    sources = []
    for line in re.findall(r"^COPY (?!--from)(.+)$", DOCKERFILE, re.M):
        *paths, _destination = line.split()
        sources += paths
    return sources


def context_of(root: Path) -> set[str]:
    patterns = DOCKERIGNORE.read_text().splitlines()
    return exclude_paths(str(root), patterns, dockerfile="deploy/Dockerfile")


def test_the_build_context_leaves_out_keys_stores_and_the_virtualenv(tmp_path):
    for name in [*NEVER, *(f"{source}/__init__.py" for source in copied_sources())]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    context = context_of(tmp_path)
    assert [name for name in NEVER if name in context] == []
    assert {f"{source}/__init__.py" for source in copied_sources()} <= context


def test_the_build_context_holds_everything_the_dockerfile_copies():
    sources = copied_sources()
    assert {"pyproject.toml", "README.md", "bot", "repocrew"} <= set(sources)
    context = context_of(REPO)
    assert [source for source in sources if source not in context] == []
    tracked = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "--", *sources],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert tracked and [path for path in tracked if path not in context] == []


def test_the_build_context_is_small():
    files = [REPO / name for name in context_of(REPO) if (REPO / name).is_file()]
    megabytes = sum(path.stat().st_size for path in files) / 1e6
    assert megabytes < 20, f"build context {megabytes:.1f} MB"


@pytest.mark.parametrize(
    "path",
    [
        "repocrew.private-key.pem",
        "deploy/crew.private-key.pem",
        ".env",
        ".env.local",
        "repocrew.db",
        ".venv/bin/python",
    ],
)
def test_git_ignores_keys_env_files_and_stores(path):
    ignored = subprocess.run(
        ["git", "-C", str(REPO), "check-ignore", "--no-index", "-q", path], check=False
    )
    assert ignored.returncode == 0, f"{path} is not in .gitignore"
