"""Detecting how a repository is set up and tested: small trees for each rule, explicit
configuration winning, and (when fetched) the real sdists of the realrepos corpus."""

from __future__ import annotations

import hashlib
import os
import tarfile
import textwrap
import tomllib
from pathlib import Path

import pytest

from bot.environments.detect import detect_environment
from bot.environments.plan import runner_of
from bot.roster.loader import load_crew
from bot.roster.models import DEFAULT_TEST_COMMAND, EnvironmentConfig, TestsConfig
from repocrew.demo_project import sample_files

CREW = load_crew(None)
VENV = "python3 -m venv .venv"
PIP = ".venv/bin/python -m pip install"


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text))
    return root


def _detect(root: Path, *, command: str | None = None, tools=(), **environment):
    tests = TestsConfig.model_validate({"command": command}) if command else CREW.tests
    env = EnvironmentConfig.model_validate(environment)
    return detect_environment(root, tests=tests, environment=env, tools=tools)


def _pyproject(extra: str = "", **tables: str) -> str:
    text = '[build-system]\nrequires = ["setuptools>=61"]\n[project]\nname = "p"\nversion = "1"\n'
    return text + extra + "".join(f"[{name}]\n{body}\n" for name, body in tables.items())


# --- nothing to set up -------------------------------------------------------------------------


def test_the_demo_project_needs_no_set_up_and_runs_pytest(tmp_path):
    plan = _detect(_tree(tmp_path, sample_files()))
    assert (plan.kind, plan.setup, plan.test_command) == ("none", (), DEFAULT_TEST_COMMAND)
    assert (plan.test_runner, plan.depends_on, plan.environment_dir) == ("pytest", (), None)
    assert "nothing to set up" in plan.reason


def test_a_tool_only_pyproject_is_no_dependency_file(tmp_path):
    plan = _detect(_tree(tmp_path, {"pyproject.toml": "[tool.ruff]\nline-length = 100\n"}))
    assert plan.kind == "none"


# --- Python: pyproject.toml --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["test", "tests", "testing", "Tests", "test-all"])
def test_a_pyproject_extra_named_for_tests_is_installed(tmp_path, name):
    extras = f'[project.optional-dependencies]\n{name} = ["pytest>=8"]\ndocs = ["sphinx"]\n'
    plan = _detect(_tree(tmp_path, {"pyproject.toml": _pyproject(extras)}))
    assert plan.kind == "python" and plan.setup == (VENV, f"{PIP} -e '.[{name}]'")
    assert f"extra `{name}` (pyproject.toml)" in plan.reason
    assert (plan.environment_dir, plan.path, plan.depends_on) == (
        ".venv",
        (".venv/bin",),
        ("pyproject.toml",),
    )


def test_the_dev_extra_is_the_fallback_and_pytest_is_added_when_it_lacks_it(tmp_path):
    extras = '[project.optional-dependencies]\ndev = ["ruff"]\ndocs = ["sphinx"]\n'
    plan = _detect(_tree(tmp_path, {"pyproject.toml": _pyproject(extras)}))
    assert plan.setup[-1] == f"{PIP} -e '.[dev]' pytest"
    assert "adds pytest" in plan.reason
    both = '[project.optional-dependencies]\ndev = ["ruff"]\ntest = ["pytest"]\n'
    plan = _detect(_tree(tmp_path, {"pyproject.toml": _pyproject(both)}))
    assert plan.setup[-1] == f"{PIP} -e '.[test]'"


def test_dependency_groups_are_listed_for_pip_with_includes_expanded(tmp_path):
    groups = 'test = ["pytest>=8", {include-group = "base"}]\nbase = ["requests"]\nlint = ["x"]'
    plan = _detect(_tree(tmp_path, {"pyproject.toml": _pyproject(**{"dependency-groups": groups})}))
    assert plan.setup[-1] == f"{PIP} -e . 'pytest>=8' requests"
    assert "dependency group `test` (listed: pip ≥ 25.1 alone knows --group)" in plan.reason


@pytest.mark.parametrize(
    "build",
    [
        '[build-system]\nrequires = ["hatchling", "hatch-vcs"]\n',
        '[build-system]\nrequires = ["setuptools", "setuptools_scm[toml]>=6"]\n',
        '[build-system]\nrequires = ["setuptools"]\n[tool.setuptools_scm]\n',
        '[build-system]\nrequires = ["hatchling"]\n[tool.hatch.version]\nsource = "vcs"\n',
    ],
)
def test_a_version_from_git_is_given_to_the_build(tmp_path, build):
    text = build + '[project]\nname = "p"\ndynamic = ["version"]\n'
    plan = _detect(_tree(tmp_path, {"pyproject.toml": text}))
    assert plan.setup[-1] == f"SETUPTOOLS_SCM_PRETEND_VERSION=0.0.0 {PIP} -e . pytest"
    (tmp_path / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: p\nVersion: 4.15.0\n")
    plan = _detect(tmp_path)
    assert plan.setup[-1].startswith("SETUPTOOLS_SCM_PRETEND_VERSION=4.15.0 ")
    assert "PKG-INFO" in plan.depends_on


def test_python_from_the_roster_makes_the_virtualenv(tmp_path):
    plan = _detect(_tree(tmp_path, {"pyproject.toml": _pyproject()}), python="3.12")
    assert plan.setup[0] == "python3.12 -m venv .venv" and plan.python == "3.12"


def test_invalid_toml_is_noted_not_raised(tmp_path):
    plan = _detect(_tree(tmp_path, {"pyproject.toml": "[project\n", "requirements.txt": "x\n"}))
    assert plan.kind == "python" and "pyproject.toml is not valid TOML" in plan.reason


def test_oddly_shaped_toml_is_read_without_failing(tmp_path):
    text = 'tool = "x"\n[project]\noptional-dependencies = ["a"]\n[dependency-groups]\ntest = 3\n'
    plan = _detect(_tree(tmp_path, {"pyproject.toml": text}))
    assert plan.kind == "python" and plan.setup[-1] == f"{PIP} -e . pytest"
    groups = 'test = [{include-group = ["x"]}, {include-group = "test"}, "a", 5]'
    text = _pyproject(**{"dependency-groups": groups, "tool.pytest.ini_options": "addopts = 3"})
    plan = _detect(_tree(tmp_path, {"pyproject.toml": text}))
    assert plan.setup[-1] == f"{PIP} -e . a pytest"


# --- Python: setup.cfg, setup.py ---------------------------------------------------------------


def test_setup_cfg_extras(tmp_path):
    cfg = "[options.extras_require]\ndoc = sphinx\ntest =\n  pytest\n  tornado>=4.5\n"
    plan = _detect(_tree(tmp_path, {"setup.cfg": cfg, "pyproject.toml": _pyproject()}))
    assert plan.setup[-1] == f"{PIP} -e '.[test]'"
    assert "extra `test` (setup.cfg)" in plan.reason


def test_setup_py_is_read_as_a_tree_and_never_run(tmp_path):
    setup = """
        open("ran", "w").write("setup.py was executed")
        from setuptools import setup
        EXTRAS = {"testing": ["pytest", "pytest-mock"], "docs": ["sphinx"]}
        setup(name="p", extras_require=EXTRAS, use_scm_version=True)
    """
    plan = _detect(_tree(tmp_path, {"setup.py": setup}))
    assert not (tmp_path / "ran").exists()
    assert plan.setup[-1] == f"SETUPTOOLS_SCM_PRETEND_VERSION=0.0.0 {PIP} -e '.[testing]'"


def test_setup_py_tests_require_and_computed_extras(tmp_path):
    setup = "import setuptools\nsetuptools.setup(extras_require=make(), tests_require=['nose2'])\n"
    plan = _detect(_tree(tmp_path, {"setup.py": setup}))
    assert plan.setup[-1] == f"{PIP} -e . nose2 pytest"
    assert "setup.py computes extras_require" in plan.reason
    assert _detect(_tree(tmp_path, {"setup.py": "def (:\n"})).setup[-1] == f"{PIP} -e . pytest"


# --- Python: requirements files, tox, nox ------------------------------------------------------


def test_requirements_alone_install_without_the_project(tmp_path):
    plan = _detect(_tree(tmp_path, {"requirements.txt": "flask==3.0  # web\n"}))
    assert plan.setup == (VENV, f"{PIP} -r requirements.txt pytest")
    assert plan.depends_on == ("requirements.txt",)


def test_test_requirements_and_their_includes(tmp_path):
    files = {
        "setup.py": "from setuptools import setup\nsetup(name='p')\n",
        "requirements/requirements.txt": "python-dateutil>=2.7\n",
        "requirements/requirements-tests.txt": "-r requirements.txt\npytest\npytest-cov\n",
        "requirements/requirements-docs.txt": "sphinx\n",
        "tox.ini": "[pytest]\naddopts = --cov=p\n",
    }
    plan = _detect(_tree(tmp_path, files))
    assert plan.setup[-1] == f"{PIP} -e . -r requirements/requirements-tests.txt"
    assert "requirements/requirements.txt" in plan.depends_on
    assert "requirements/requirements-docs.txt" not in plan.depends_on


def test_dev_requirements_only_when_nothing_names_tests(tmp_path):
    files = {
        "requirements.txt": "a\n",
        "requirements-dev.txt": "pytest\n",
        "docs-requirements.txt": "",
    }
    plan = _detect(_tree(tmp_path, files))
    assert plan.setup[-1] == f"{PIP} -r requirements.txt -r requirements-dev.txt"
    (tmp_path / "test-requirements.txt").write_text("hypothesis\n")
    plan = _detect(tmp_path)
    assert plan.setup[-1] == f"{PIP} -r requirements.txt -r test-requirements.txt pytest"


def test_tox_deps_and_extras(tmp_path):
    tox = """
        [testenv]
        extras = tests
        deps =
            pytest-cov
            py311: trio
            {[base]deps}
            -r{toxinidir}/reqs.txt
            .[speedups]
        [testenv:lint]
        deps = ruff
    """
    files = {"pyproject.toml": _pyproject(), "tox.ini": tox, "reqs.txt": "pytest\n"}
    plan = _detect(_tree(tmp_path, files))
    # tox installs `.[speedups]` for its tests too: every extra it names, not only `tests`
    assert plan.setup[-1] == f"{PIP} -e '.[tests,speedups]' -r reqs.txt pytest-cov"
    assert "tox.ini deps: pytest-cov, reqs.txt" in plan.reason


def test_a_noxfile_is_a_hint_when_nothing_else_names_the_tests_needs(tmp_path):
    nox = """
        import nox
        @nox.session
        def tests(session):
            session.install("-r", "reqs.txt", "pytest", ".[extra]")
        @nox.session
        def lint(session):
            session.install("ruff")
    """
    files = {"pyproject.toml": _pyproject(), "noxfile.py": nox, "reqs.txt": "a\n"}
    plan = _detect(_tree(tmp_path, files))
    assert plan.setup[-1] == f"{PIP} -e '.[extra]' -r reqs.txt pytest"


# --- Python: pytest, lock files ------------------------------------------------------------------


def test_plugins_the_pytest_configuration_needs_are_added(tmp_path):
    pytest_table = 'addopts = "--cov=p -n auto"\nrequired_plugins = "pytest-mock>=3"'
    files = {"pyproject.toml": _pyproject(**{"tool.pytest.ini_options": pytest_table})}
    plan = _detect(_tree(tmp_path, files))
    assert plan.setup[-1] == f"{PIP} -e . pytest pytest-cov pytest-xdist 'pytest-mock>=3'"


def test_pytests_own_order_picks_the_configuration(tmp_path):
    files = {"pytest.ini": "[pytest]\ntimeout = 5\n", "tox.ini": "[pytest]\naddopts = --cov\n"}
    plan = _detect(_tree(tmp_path, files))
    assert plan.kind == "python" and plan.setup == (VENV, f"{PIP} pytest pytest-timeout")


def test_pytest_is_not_added_for_another_test_command(tmp_path):
    files = {"requirements.txt": "a\n", "setup.cfg": "[tool:pytest]\naddopts = --cov\n"}
    plan = _detect(_tree(tmp_path, files), command="python -m unittest")
    assert plan.setup[-1] == f"{PIP} -r requirements.txt" and plan.test_runner == "unittest"


def test_a_lock_without_its_tool_is_noted_and_pip_installs(tmp_path):
    files = {"pyproject.toml": _pyproject('[project.optional-dependencies]\ntests = ["pytest"]\n')}
    _tree(tmp_path, {**files, "uv.lock": "version = 1\n"})
    plan = _detect(tmp_path)
    assert plan.setup[-1] == f"{PIP} -e '.[tests]'"
    assert "uv.lock noted, but no uv on PATH" in plan.reason


def test_a_lock_with_its_tool_on_path(tmp_path):
    groups = {"dependency-groups": 'test = ["pytest"]'}
    _tree(tmp_path, {"pyproject.toml": _pyproject(**groups), "uv.lock": ""})
    plan = _detect(tmp_path, tools={"uv"}, python="3.12")
    assert plan.setup == ("uv sync --frozen --python 3.12 --group test",)
    assert "uv.lock" in plan.depends_on and plan.reason.startswith("uv.lock → uv")
    poetry = '[tool.poetry.group.test.dependencies]\npytest = "^8"\n'
    (tmp_path / "uv.lock").unlink()
    _tree(tmp_path, {"pyproject.toml": _pyproject(poetry), "poetry.lock": ""})
    plan = _detect(tmp_path, tools={"poetry"})
    assert plan.setup == (
        "POETRY_VIRTUALENVS_IN_PROJECT=true poetry install --no-interaction --with test",
    )
    assert _detect(tmp_path).setup[-1] == f"{PIP} -e . pytest"


def test_a_symlink_out_of_the_checkout_is_not_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("token-123\n")
    root = tmp_path / "repo"
    root.mkdir()
    (root / "requirements-test.txt").symlink_to(secret)
    (root / "pyproject.toml").symlink_to(secret)
    plan = _detect(root)
    assert plan.kind == "none" and "token" not in " ".join(plan.setup)


# --- Node ----------------------------------------------------------------------------------------


def _package(test: str = "tape test/*.js", **more) -> str:
    import json

    return json.dumps({"name": "p", "scripts": {"test": test}, **more})


@pytest.mark.parametrize(
    ("lock", "tools", "install", "why"),
    [
        ("package-lock.json", (), "npm ci --no-audit --no-fund", "package-lock.json → npm ci"),
        ("npm-shrinkwrap.json", (), "npm ci --no-audit --no-fund", "→ npm ci"),
        ("yarn.lock", (), "npm install --no-audit --no-fund", "neither corepack nor yarn"),
        ("yarn.lock", {"corepack"}, "corepack yarn install --frozen-lockfile", "corepack yarn"),
        ("yarn.lock", {"yarn"}, "yarn install --frozen-lockfile", "yarn.lock → yarn install"),
        ("pnpm-lock.yaml", (), "npm install --no-audit --no-fund", "lock is not honoured"),
        ("pnpm-lock.yaml", {"corepack"}, "corepack pnpm install --frozen-lockfile", "pnpm"),
        ("bun.lockb", {"bun"}, "bun install --frozen-lockfile", "bun.lockb → bun install"),
        (None, (), "npm install --no-audit --no-fund", "without a lockfile → npm install"),
    ],
)
def test_the_lockfile_picks_the_install(tmp_path, lock, tools, install, why):
    _tree(tmp_path, {"package.json": _package(), **({lock: ""} if lock else {})})
    plan = _detect(tmp_path, tools=tools)
    assert plan.kind == "node" and plan.setup == (install,) and why in plan.reason
    assert plan.depends_on == ("package.json", *([lock] if lock else []))
    assert (plan.environment_dir, plan.path) == ("node_modules", ("node_modules/.bin",))


def test_yarn_berry_installs_immutably(tmp_path):
    _tree(tmp_path, {"package.json": _package(packageManager="yarn@4.1.0"), "yarn.lock": ""})
    assert _detect(tmp_path, tools={"corepack"}).setup == ("corepack yarn install --immutable",)


@pytest.mark.parametrize(
    ("script", "runner"),
    [
        ("node --test", "node-test"),
        ("jest --ci", "jest"),
        ("vitest run", "vitest"),
        ("mocha 'test/**/*.spec.js'", "mocha"),
        ("tape test/*.js", "tape"),
        ("tap", "tap"),
        ("nyc --reporter=text tape 'test/**/*.js'", "tape"),
        ("npm run lint && npm run unit", "jest"),
        ("eslint . && make check", "unknown"),
    ],
)
def test_the_test_script_names_its_runner(tmp_path, script, runner):
    scripts = {"test": script, "unit": "cross-env CI=1 npx jest", "lint": "eslint ."}
    _tree(tmp_path, {"package.json": _package(script, scripts=scripts)})
    plan = _detect(tmp_path)
    assert (plan.test_command, plan.test_runner) == (("npm", "test"), runner)


def test_pre_and_post_test_checks_are_skipped_but_a_build_is_not(tmp_path):
    scripts = {
        "test": "npm run tests-only",
        "tests-only": "tape",
        "pretest": "npm run lint",
        "lint": "eslint .",
        "posttest": "npx npm@'>=10.2' audit --production",
    }
    _tree(tmp_path, {"package.json": _package(scripts=scripts)})
    plan = _detect(tmp_path)
    assert plan.test_command == ("npm", "test", "--ignore-scripts")
    assert "without its pretest and posttest" in plan.reason
    scripts["pretest"] = "tsc -p ."
    _tree(tmp_path, {"package.json": _package(scripts=scripts)})
    assert _detect(tmp_path).test_command == ("npm", "test")


def test_no_test_script_means_node_test(tmp_path):
    _tree(tmp_path, {"package.json": _package('echo "Error: no test specified" && exit 1')})
    plan = _detect(tmp_path)
    assert (plan.test_command, plan.test_runner) == (("node", "--test"), "node-test")


def test_the_fallback_installs_what_the_tests_import(tmp_path):
    package = _package(
        "nyc tape test/*.js",
        dependencies={"side-channel": "^1.1.1"},
        devDependencies={
            "tape": "^5",
            "nyc": "^10",
            "@scope/helper": "^2",
            "eslint": "^9",
            "local": "file:../local",
        },
    )
    test = "const t = require('tape');\nimport h from '@scope/helper/sub';\nrequire('./x');\n"
    _tree(
        tmp_path, {"package.json": package, "test/a.test.js": test, "lib/b.js": "require('eslint')"}
    )
    (install,) = _detect(tmp_path).setup
    first, ranged, loose = install.split(" || ")
    assert first == "npm install --no-audit --no-fund"
    assert "'@scope/helper@^2' 'nyc@^10' 'side-channel@^1.1.1' 'tape@^5' &&" in ranged
    assert "@scope/helper nyc 'side-channel@^1.1.1' tape &&" in loose
    assert "eslint" not in ranged and "local" not in ranged
    assert ranged.endswith('rm -rf node_modules && mv "$d/node_modules" node_modules; }')


def test_engines_node_is_the_hint_unless_the_roster_says(tmp_path):
    _tree(tmp_path, {"package.json": _package(engines={"node": ">=18"})})
    assert _detect(tmp_path).node == ">=18" and _detect(tmp_path, node="20").node == "20"


def test_python_manifests_come_before_package_json(tmp_path):
    _tree(tmp_path, {"package.json": _package(), "requirements.txt": "a\n"})
    assert _detect(tmp_path).kind == "python"


# --- explicit configuration wins ---------------------------------------------------------------


def test_an_explicit_test_command_wins(tmp_path):
    _tree(tmp_path, {"package.json": _package(), "pyproject.toml": "[tool.x]\n"})
    plan = _detect(tmp_path, command="npx vitest run --reporter=junit")
    assert plan.test_command == ("npx", "vitest", "run", "--reporter=junit")
    assert (plan.test_runner, plan.explicit_test_command) == ("vitest", True)
    plan = _detect(_tree(tmp_path / "empty", {}), command="make test")
    assert (plan.kind, plan.test_command, plan.test_runner) == ("none", ("make", "test"), "unknown")


def test_an_explicit_set_up_wins_and_an_empty_one_means_none(tmp_path):
    _tree(tmp_path, {"pyproject.toml": _pyproject()})
    plan = _detect(tmp_path, setup=["make venv"], cache=False)
    assert (plan.setup, plan.explicit_setup, plan.cache) == (("make venv",), True, False)
    assert plan.reason.startswith("set-up from [environment] setup (make venv); detected: ")
    assert plan.kind == "python" and plan.depends_on == ("pyproject.toml",)
    assert _detect(tmp_path, setup=[]).setup == ()


@pytest.mark.parametrize(
    ("command", "runner"),
    [
        (["python", "-m", "pytest", "-q"], "pytest"),
        (["coverage", "run", "-m", "pytest"], "pytest"),
        ([".venv/bin/py.test"], "pytest"),
        (["env", "A=1", "pytest"], "pytest"),
        (["python3", "-m", "unittest", "discover"], "unittest"),
        (["npx", "--yes", "jest"], "jest"),
        (["react-scripts", "test"], "jest"),
        (["npm", "install"], "unknown"),
    ],
)
def test_runner_of_commands(command, runner):
    assert runner_of(command) == runner


# --- the realrepos corpus, when its packages were fetched ---------------------------------------

REALREPOS = os.environ.get("REPOCREW_REALREPOS_DIR", "")  # manifest.toml + the fetched archives


def _tasks() -> list[dict]:
    manifest = Path(REALREPOS) / "manifest.toml"
    return tomllib.loads(manifest.read_text())["task"] if REALREPOS and manifest.is_file() else []


@pytest.mark.skipif(not _tasks(), reason="set REPOCREW_REALREPOS_DIR to the fetched corpus")
@pytest.mark.parametrize("task", _tasks(), ids=lambda task: task["name"])
def test_the_fetched_real_packages_are_detected(tmp_path, task):
    name = f"{task['package']}-{task['base_version']}"
    archive = next((p for p in Path(REALREPOS).glob(f"{name}.t*gz")), None)
    if (
        archive is None
        or hashlib.sha256(archive.read_bytes()).hexdigest() != task["base_sdist_sha256"]
    ):
        pytest.skip(f"{name} is not fetched (or is not the recorded file)")
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path, filter="data")
    (root,) = tmp_path.iterdir()
    plan = _detect(root)
    if task["ecosystem"] == "pypi":
        assert (plan.kind, plan.test_runner, plan.setup[0]) == ("python", "pytest", VENV)
        assert plan.setup[-1].split(PIP)[1].startswith((" -e .", " -e '.["))  # the project
    else:
        assert plan.kind == "node" and plan.test_runner != "unknown"
        assert plan.setup[0].startswith("npm install")
