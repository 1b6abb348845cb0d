"""Per-repository environments, for real: set up in the sandbox from the package registries
(PyPI, npm) through the registry proxy, cached, shown read-only to the tests, JUnit read back.

Needs bubblewrap and the registries (CI reaches them); skipped with the reason otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from bot.environments.build import Environments
from bot.environments.cache import EnvironmentCache
from bot.environments.detect import detect_environment
from bot.environments.host_config import client_config
from bot.environments.setup_report import SetupFailed
from bot.environments.test_run import run_tests
from bot.roster.loader import apply_repo_overrides, load_crew
from bot.sandbox import SandboxLimits, sandbox_status

pytestmark = pytest.mark.skipif(
    not sandbox_status().available, reason=f"no sandbox: {sandbox_status().reason}"
)
REGISTRIES = ("pypi.org", "files.pythonhosted.org", "registry.npmjs.org")
LIMITS = SandboxLimits(wall_seconds=300)

PYPROJECT = """[project]
name = "tiny"
version = "0.1.0"
dependencies = ["iniconfig"]

[project.optional-dependencies]
test = ["pytest"]

[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"
"""
TESTS = """import urllib.request

import iniconfig
import pytest


def test_the_dependency_is_installed():
    assert iniconfig.IniConfig


def test_repocrews_own_packages_are_not_there():
    with pytest.raises(ImportError):
        import sqlmodel  # noqa: F401


def test_tests_have_no_network():
    with pytest.raises(OSError):
        urllib.request.urlopen("https://pypi.org/simple/", timeout=5)


def test_a_failure():
    assert 1 == 2
"""


def _repo(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    who = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", *who, "commit", "-qm", "base"], cwd=root, check=True)
    return root


def _environments(tmp_path: Path, allow=REGISTRIES) -> Environments:
    cache = EnvironmentCache(tmp_path / "envs", max_age_seconds=3600, max_bytes=2 * 1024**3)
    return Environments(cache, allow, client_config(os.environ, Path.home()))


def _plan(root: Path, repo_config: str = ""):
    crew = load_crew(None)
    if repo_config:
        crew = apply_repo_overrides(crew, repo_config)
    return detect_environment(root, tests=crew.tests, environment=crew.environment)


def test_a_python_repository_gets_its_own_environment_once(tmp_path):
    root = _repo(
        tmp_path / "repo",
        {"pyproject.toml": PYPROJECT, "tiny/__init__.py": "", "tests/test_tiny.py": TESTS},
    )
    environments, plan = _environments(tmp_path), _plan(root)
    assert plan.kind == "python" and plan.setup

    cold = environments.prepare(root, plan)
    assert cold.built and ".venv" in [path for _, path in cold.mounts]  # and tiny.egg-info
    warm = environments.prepare(root, plan)
    assert not warm.built and warm.key == cold.key and warm.seconds < cold.seconds / 10

    done = run_tests(root, warm, limits=LIMITS)
    assert done.results.source == "junit"
    outcomes = {case.id.rsplit("::", 1)[1]: case.outcome.value for case in done.results.cases}
    assert outcomes == {
        "test_the_dependency_is_installed": "passed",
        "test_repocrews_own_packages_are_not_there": "passed",
        "test_tests_have_no_network": "passed",
        "test_a_failure": "failed",
    }
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True
    )
    assert status.stdout == ""  # the environment and the tests' leftovers are not the repo's


def test_a_set_up_that_reaches_beyond_the_registries_is_refused_and_reported(tmp_path):
    root = _repo(tmp_path / "repo", {"pyproject.toml": PYPROJECT})
    fetch = (
        'python3 -c "import urllib.request; '
        "urllib.request.urlopen('http://example.com/', timeout=10)\""
    )
    plan = _plan(root, f"[environment]\nsetup = [{json.dumps(fetch)}]\n")
    with pytest.raises(SetupFailed) as failed:
        _environments(tmp_path).prepare(root, plan)
    assert "example.com:80" in failed.value.refused
    report = failed.value.report()
    assert "example.com:80" in report and fetch in report and "[environment]" in report


def test_the_bots_secrets_never_reach_a_set_up(tmp_path, monkeypatch):
    monkeypatch.setenv("REPOCREW_SLACK_BOT_TOKEN", "xoxb-planted-secret")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-planted-secret")
    root = _repo(tmp_path / "repo", {"pyproject.toml": PYPROJECT})
    look = "cat /proc/*/environ 2>/dev/null | tr '\\000' '\\n' | grep -c planted-secret || true"
    plan = _plan(root, f"[environment]\nsetup = [{json.dumps(look)}]\n")
    environment = _environments(tmp_path).prepare(root, plan)
    assert environment.built and environment.log.strip().splitlines()[-1] == "0"


NODE_PACKAGE = {
    "name": "tiny-node",
    "version": "1.0.0",
    "private": True,
    "scripts": {"test": "node --test"},
    "dependencies": {"is-number": "7.0.0"},
}
NODE_TEST = """const test = require('node:test');
const assert = require('node:assert');
const isNumber = require('is-number');

test('numbers', () => { assert.equal(isNumber(5), true); });
test('strings that are not numbers', () => { assert.equal(isNumber('five'), true); });
"""


def test_a_node_repository_gets_node_modules_and_junit_results(tmp_path):
    root = _repo(
        tmp_path / "repo",
        {"package.json": json.dumps(NODE_PACKAGE), "test/is.test.js": NODE_TEST},
    )
    environments, plan = _environments(tmp_path), _plan(root)
    assert plan.kind == "node" and plan.test_runner == "node-test"
    cold = environments.prepare(root, plan)
    assert cold.built and "node_modules" in [path for _, path in cold.mounts]
    assert not environments.prepare(root, plan).built

    done = run_tests(root, cold, limits=LIMITS)
    assert done.results.source == "junit"
    outcomes = {case.id: case.outcome.value for case in done.results.cases}
    assert outcomes == {"numbers": "passed", "strings that are not numbers": "failed"}


# As nyc, AVA and babel do: a cache under node_modules/.cache, written while the tests run.
CACHE_TEST = """const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');

test('a fresh tool cache, writable', () => {
  assert.deepEqual(fs.readdirSync('node_modules/.cache'), []);
  fs.mkdirSync('node_modules/.cache/nyc', { recursive: true });
  fs.writeFileSync('node_modules/.cache/nyc/run.json', '{}');
});
test('the rest of node_modules read-only', () => {
  assert.throws(() => fs.writeFileSync('node_modules/is-number/index.js', ''), /EROFS/);
});
"""


def test_tools_write_their_cache_under_node_modules_afresh_on_every_run(tmp_path):
    files = {"package.json": json.dumps(NODE_PACKAGE), "test/cache.test.js": CACHE_TEST}
    root = _repo(tmp_path / "repo", files)
    environment = _environments(tmp_path).prepare(root, _plan(root))
    for _ in range(2):  # the second run sees none of the first one's cache
        done = run_tests(root, environment, limits=LIMITS)
        outcomes = {case.id: case.outcome.value for case in done.results.cases}
        assert set(outcomes.values()) == {"passed"}, done.result.output[-2000:]
        assert len(outcomes) == 2
    assert not (root / "node_modules" / ".cache" / "nyc").exists()
