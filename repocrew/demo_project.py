"""The demo's sample project: the tiny Python repository the crew works on, as first committed.

What the scripted crew then writes into it lives with the script, in `demo_session`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

AGES_BEFORE = '''"""Reading ages from user input."""


def parse_age(text):
    return int(text)
'''

TESTS_BEFORE = """from calc.ages import parse_age


def test_a_number_is_read():
    assert parse_age("42") == 42
"""

# The sample project needs no pytest plugins: its tests skip any installed beside repocrew.
REPO_CONFIG = """[tests]
env = { PYTEST_DISABLE_PLUGIN_AUTOLOAD = "1" }
"""


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def sample_files() -> dict[str, str]:
    """The tiny Python project the crew works on in the demo."""
    return {
        "calc/__init__.py": "",
        "calc/ages.py": AGES_BEFORE,
        "tests/test_ages.py": TESTS_BEFORE,
        ".gitignore": "__pycache__/\n.pytest_cache/\n",
        ".repocrew.toml": REPO_CONFIG,
    }


def make_sample_repository(root: Path) -> Path:
    """A bare repository (the "remote") holding a tiny Python project on `main`."""
    bare = root / "sample.git"
    work = root / "sample-src"
    work.mkdir(parents=True)
    for name, text in sample_files().items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text)
    git("init", "-q", "-b", "main", cwd=work)
    git("add", "-A", cwd=work)
    git(
        "-c", "user.name=Octo Human", "-c", "user.email=octo@example.com",
        "commit", "-q", "-m", "A tiny project", cwd=work,
    )  # fmt: skip
    git("clone", "-q", "--bare", str(work), str(bare), cwd=root)
    return bare
