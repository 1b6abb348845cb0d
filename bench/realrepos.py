"""The crew on the shared real bug-fix tasks with the oracle model: environments (cold, then
warm), baselines, whole runs through the webhooks, and SWE-bench grading.

    python bench/realrepos.py [--manifest PATH] [--task NAME ...]

Prints `repocrew eval`'s lines; the last is
`eval: tasks=N env_ok=N baseline_ok=N resolved=N cold_setup_s=… warm_setup_s=… test_s=…`.
Needs the package registries (PyPI, npm) and bubblewrap.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    repocrew = Path(sys.executable).with_name("repocrew")
    command = [str(repocrew), "eval", "--oracle", *argv]
    if "--manifest" not in argv:
        command += ["--manifest", str(REPO.parent / "shared" / "realrepos" / "manifest.toml")]
    return subprocess.run(command, cwd=REPO, check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
