"""`repocrew eval` on tasks of the shared real-repository manifest, with the oracle model:
the releases from their registry, the environment cold then warm, the baseline, a whole crew
run through the webhooks, and SWE-bench grading. And without the oracle: nothing of the fixed
release reaches a model request.

Needs the shared corpus beside the repository, the package registries and bubblewrap.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.sandbox import sandbox_status
from repocrew.evaluation.manifest import load_manifest
from repocrew.evaluation.releases import fetch, unpack
from repocrew.evaluation.run import Options, evaluate, summary_line
from tests.conftest import REPO

MANIFEST = REPO.parent / "shared" / "realrepos" / "manifest.toml"
pytestmark = [
    pytest.mark.skipif(not MANIFEST.is_file(), reason=f"the shared manifest is not at {MANIFEST}"),
    pytest.mark.skipif(not sandbox_status().available, reason="no sandbox (bubblewrap)"),
]
# Two of the shared tasks, small and fast (others run in bench/realrepos.py).
TASKS = ("parse", "humanize")


@pytest.fixture(scope="module")
def downloads(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("releases")


def _strings(value) -> list[str]:
    """Every string in a request body (the text as the model reads it, not JSON-escaped)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def _task(name: str):
    return next(task for task in load_manifest(MANIFEST) if task.name == name)


@pytest.mark.parametrize("name", TASKS)
def test_the_oracle_resolves_a_real_task(name, downloads, tmp_path):
    result = evaluate(_task(name), Options(cache=downloads, root=tmp_path, oracle=True))
    assert (result.env_ok, result.baseline_ok, result.resolved) == (True, True, True), result
    assert result.fail_to_pass and all(result.fail_to_pass.values())
    assert result.broken == [] and result.run_state == "awaiting_human"
    assert result.warm_setup_s <= result.cold_setup_s / 10
    assert summary_line([result]).startswith("eval: tasks=1 env_ok=1 baseline_ok=1 resolved=1 ")


def test_nothing_of_the_fixed_release_reaches_the_model(downloads, tmp_path):
    task = _task("parse")
    fixed = unpack(fetch(task, task.fixed_version, task.fixed_sha256, downloads), tmp_path / "f")
    base = unpack(fetch(task, task.base_version, task.base_sha256, downloads), tmp_path / "b")
    seen: list[str] = []
    options = Options(
        cache=downloads,
        root=tmp_path / "eval",
        oracle=False,
        inspect=lambda world: seen.extend(_strings(world.model.message_bodies())),
    )
    result = evaluate(task, options)
    assert seen and not result.resolved  # a model that says nothing fixes nothing
    asked = "\n".join(seen)
    assert task.title in asked
    for name in (*task.fix_files, *task.test_files):
        before = set((base / name).read_text().splitlines())
        new = [line for line in (fixed / name).read_text().splitlines() if line not in before]
        leaked = [line for line in new if len(line.strip()) >= 20 and line.strip() in asked]
        assert leaked == [], name
    assert not any(test in asked for test in task.fail_to_pass)
