"""`repocrew eval` on tasks of the shared real-repository manifest, with the oracle model:
the releases from their registry, the environment cold then warm, the baseline, a whole crew
run through the webhooks, and SWE-bench grading. And without the oracle: nothing of the fixed
release reaches a model request.

Needs the shared corpus beside the repository, the package registries and bubblewrap.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.sandbox import sandbox_status
from bot.workspace.history import code_date
from repocrew.evaluation.manifest import load_manifest
from repocrew.evaluation.releases import fetch, released_at, unpack
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
    # The repository is the release as of its day: its commit carries the registry's date.
    task = _task(name)
    published = released_at(task, task.base_version, task.base_sha256, downloads)
    assert published and datetime.fromisoformat(published) < datetime.now(UTC)
    assert code_date(tmp_path / name / "workspace") == datetime.fromisoformat(published).replace(
        microsecond=0
    )


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


# A Node project of our own, on a real npm package and node's test runner: set-up from the
# registry, the baseline, JUnit results, and the oracle's fix, through the same pipeline.
NODE_PACKAGE = {
    "name": "positive",
    "version": "1.0.0",
    "private": True,
    "scripts": {"test": "node --test"},
    "dependencies": {"is-number": "7.0.0"},
}
NODE_BUGGY = """const isNumber = require('is-number');
// Whether `value` is a number above zero.
module.exports = (value) => isNumber(value) && Number(value) >= 0;
"""
NODE_FIXED = NODE_BUGGY.replace(">= 0", "> 0")
NODE_TESTS = """const test = require('node:test');
const assert = require('node:assert');
const positive = require('../index.js');

test('five is positive', () => { assert.equal(positive(5), true); });
test('text is not', () => { assert.equal(positive('five'), false); });
"""
NODE_NEW_TEST = NODE_TESTS + "test('zero is not', () => { assert.equal(positive(0), false); });\n"


def _tree(root: Path, index: str, tests: str) -> Path:
    (root / "test").mkdir(parents=True)
    (root / "package.json").write_text(json.dumps(NODE_PACKAGE))
    (root / "index.js").write_text(index)
    (root / "test" / "positive.test.js").write_text(tests)
    return root


@pytest.mark.skipif(shutil.which("npm") is None, reason="no npm")
def test_a_node_project_is_set_up_tested_and_fixed(downloads, tmp_path):
    task = replace(
        _task("parse"),
        name="positive",
        ecosystem="npm",
        title="positive(0) says true",
        body="Zero is not positive, but `positive(0)` returns true.",
        install_command="npm install",
        test_command="npm test",
        fix_files=("index.js",),
        test_files=("test/positive.test.js",),
        fail_to_pass=("zero is not",),
        pass_to_pass=None,
    )
    trees = (
        _tree(tmp_path / "base", NODE_BUGGY, NODE_TESTS),
        _tree(tmp_path / "fixed", NODE_FIXED, NODE_NEW_TEST),
    )
    result = evaluate(task, Options(cache=downloads, root=tmp_path / "eval"), trees=trees)
    assert (result.env_ok, result.baseline_ok, result.resolved) == (True, True, True), result
    assert result.baseline == "2 passed" and result.fail_to_pass == {"zero is not": True}
    assert result.warm_setup_s <= result.cold_setup_s / 10
