"""Deciding how a repository is set up and tested, from its files alone: nothing is run.

Explicit configuration always wins (`[environment] setup`, `[tests] command`); the rest comes
from what the project declares. Python comes first when a repository has both kinds of
manifest (a package.json beside pyproject.toml is usually tooling). Lock tools (uv, poetry,
pdm, yarn, pnpm, bun) are used only when the caller says they are on PATH (`tools`), never
assumed: without them pip or npm installs what the project declares.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection, Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.environments.node import node_plan, package_json
from bot.environments.plan import VENV, EnvironmentPlan, runner_of, table
from bot.environments.pytest_era import pytest_cap
from bot.environments.python_files import (
    PythonFiles,
    names,
    normal,
    nox_requirements,
)
from bot.roster.sections import DEFAULT_TEST_COMMAND, EnvironmentConfig, TestsConfig

TEST_NAMES = ("test", "tests", "testing")  # extras and groups that hold the test dependencies
DEV_NAMES = ("dev", "develop", "development")  # the fallback: often tests plus linters and docs
NO_GIT_VERSION = "0.0.0"  # what a git-versioned build is told when no PKG-INFO says better
LOCK_TOOLS = (("uv.lock", "uv"), ("poetry.lock", "poetry"), ("pdm.lock", "pdm"))
# pytest options and settings that only a plugin understands: without it pytest exits 4.
PLUGIN_OPTIONS = (
    (re.compile(r"--cov\b"), "pytest-cov"),
    (re.compile(r"(^|\s)-n\s*(\d|auto|logical)|--numprocesses\b|--dist\b"), "pytest-xdist"),
    (re.compile(r"--timeout\b"), "pytest-timeout"),
    (re.compile(r"--benchmark-"), "pytest-benchmark"),
    (re.compile(r"--reruns\b"), "pytest-rerunfailures"),
)
PLUGIN_SETTINGS = {
    "timeout": "pytest-timeout",
    "asyncio_mode": "pytest-asyncio",
    "django_settings_module": "pytest-django",
}
# Where pytest looks for its configuration, in its own order; the first one found is used.
PYTEST_CONFIGS = (
    ("pytest.ini", "pytest"),
    (".pytest.ini", "pytest"),
    ("pyproject.toml", None),
    ("tox.ini", "pytest"),
    ("setup.cfg", "tool:pytest"),
)
PIP = f"{VENV}/bin/python -m pip install"
# How each tool installs more packages into the environment it made (uv's has no pip).
ADD_WITH = {
    "pip": PIP,
    "uv": f"uv pip install --python {VENV}/bin/python",
    "poetry": PIP,
    "pdm": f"{VENV}/bin/python -m ensurepip -q && {PIP}",
}


def detect_environment(
    root: Path,
    *,
    tests: TestsConfig,
    environment: EnvironmentConfig,
    tools: Collection[str] = (),
    code_date: datetime | None = None,
) -> EnvironmentPlan:
    """The plan for the checkout at `root` under the resolved roster sections. `tools` names
    the programs on the sandbox's PATH beyond python3 and npm (e.g. {"uv", "corepack"});
    `code_date`, when known, is the date of the code (see `bot.environments.pytest_era`)."""
    root = Path(root)
    found = PythonFiles.read(root)
    package = package_json(root)
    plugins = pytest_plugins(found)
    if found.declares_anything() or plugins:
        plan = _python_plan(found, plugins, tests, environment, frozenset(tools), code_date)
    elif package is not None:
        plan = node_plan(root, package, tests=tests, environment=environment, tools=tools)
    else:
        command = tests.command or DEFAULT_TEST_COMMAND
        plan = EnvironmentPlan(
            kind="none",
            setup=(),
            test_command=command,
            test_runner=runner_of(command),
            depends_on=(),
            python=environment.python,
            node=environment.node,
            cache=environment.cache,
            reason="no dependency files: nothing to set up",
            environment_dir=None,
            path=(),
            explicit_test_command=tests.command is not None,
        )
    if environment.setup is not None:
        told = "; ".join(environment.setup) or "nothing"
        reason = f"set-up from [environment] setup ({told}); detected: {plan.reason}"
        plan = replace(plan, setup=environment.setup, explicit_setup=True, reason=reason)
    return plan


def _python_plan(
    found: PythonFiles,
    plugins: list[str],
    tests: TestsConfig,
    environment: EnvironmentConfig,
    tools: frozenset[str],
    code_date: datetime | None,
) -> EnvironmentPlan:
    command = tests.command or DEFAULT_TEST_COMMAND
    runner = runner_of(command)
    extras, groups = _choose(found)
    files = ([] if found.installable else found.runtime_files) + found.test_files
    wanted = ["pytest", *plugins] if runner == "pytest" else []
    added = _added(found, extras, groups, files, wanted)
    tool = _lock_tool(found, tools)
    version = (package_version(found) or NO_GIT_VERSION) if found.vcs else None
    env = f"SETUPTOOLS_SCM_PRETEND_VERSION={shlex.quote(version)} " if version else ""
    setup = _commands(tool, env, environment.python, extras, groups)
    more = [*(arg for name in files for arg in ("-r", name)), *found.requirements, *added]
    if tool == "pip":  # one pip run for everything: it resolves all the constraints at once
        listed = [spec for group in groups for spec in found.groups.get(group, [])]
        itself = ["-e", "." + (f"[{','.join(extras)}]" if extras else "")]
        more = [*(itself if found.installable else []), *listed, *more]
        cap = pytest_cap(code_date) if runner == "pytest" else None  # a lock pins its own
        if cap and code_date is not None:
            more.append(f"pytest<{cap}")
            found.notes.append(f"pytest<{cap}: the code is from {code_date:%Y-%m-%d}, before it")
    if more:
        setup.append(f"{env if tool == 'pip' else ''}{ADD_WITH[tool]} {shlex.join(more)}")
    return EnvironmentPlan(
        kind="python",
        setup=tuple(setup),
        test_command=command,
        test_runner=runner,
        depends_on=tuple(found.files),
        python=environment.python,
        node=environment.node,
        cache=environment.cache,
        reason=_why(found, tool, extras, groups, added, version),
        environment_dir=VENV,
        path=(f"{VENV}/bin",),
        explicit_test_command=tests.command is not None,
    )


def _choose(found: PythonFiles) -> tuple[list[str], list[str]]:
    """The extras and dependency groups to install: those tox's test environment installs
    (all of them: `diagrams` too, and `tests` but not `tests-mypy`), else those named for
    tests (or that nox installs); failing those, the ones named for development, with dev
    requirements files."""
    extras = list(dict.fromkeys(found.tox_extras)) or _named(TEST_NAMES, found.extras)
    groups = _named(TEST_NAMES, found.groups)
    if not (extras or groups or found.requirements or found.test_files):
        nox_requirements(found)
        extras = _named(TEST_NAMES, found.tox_extras) or list(dict.fromkeys(found.tox_extras))
    if not (extras or groups or found.requirements or found.test_files):
        extras, groups = _named(DEV_NAMES, found.extras), _named(DEV_NAMES, found.groups)
        found.need("dev requirements files", files=found.dev_files)
    return extras, groups


def _named(wanted: tuple[str, ...], candidates: Iterable[str]) -> list[str]:
    """The candidates named like `wanted` ("test", "tests", "testing", also "tests-extra")."""
    test_like = wanted == TEST_NAMES
    return [
        name
        for name in dict.fromkeys(candidates)
        if normal(name) in wanted or (test_like and normal(name).startswith("test"))
    ]


def _added(
    found: PythonFiles, extras: list[str], groups: list[str], files: list[str], wanted: list[str]
) -> list[str]:
    """pytest and the plugins its configuration uses, unless what is installed brings them."""
    brought = names(found.requirements)
    for name in files:
        brought |= found.listed.get(name, set())
    for extra in extras:
        brought |= names(found.extras.get(extra) or [])
    for group in groups:
        brought |= names(found.groups.get(group, []))
    return [spec for spec in dict.fromkeys(wanted) if not names([spec]) <= brought]


def _lock_tool(found: PythonFiles, tools: frozenset[str]) -> str:
    """The lock file's own tool when it is on PATH; pip with the declared dependencies else."""
    for lock, tool in LOCK_TOOLS:
        if (found.root / lock).is_file():
            if tool in tools and found.installable:
                found.text(lock)
                return tool
            found.notes.append(f"{lock} noted, but no {tool} on PATH: pip, declared dependencies")
    return "pip"


def _why(
    found: PythonFiles,
    tool: str,
    extras: list[str],
    groups: list[str],
    added: list[str],
    version: str | None,
) -> str:
    """The plan's reason: what was found, and what it makes the set-up do."""
    manifest = next((n for n in ("pyproject.toml", "setup.py") if n in found.files), "")
    lock = {"uv": "uv.lock", "poetry": "poetry.lock", "pdm": "pdm.lock"}.get(tool)
    parts = [f"{lock} → {tool}"] if lock else []
    if found.installable:
        parts.append(f"{manifest} → install the project itself")
    for extra in extras:
        parts.append(f"extra `{extra}` ({found.extras_in.get(extra, 'named by tox or nox')})")
    if groups:
        listed = " (listed: pip ≥ 25.1 alone knows --group)" if tool == "pip" else ""
        parts.append(f"dependency group {', '.join(f'`{g}`' for g in groups)}{listed}")
    if not found.installable and found.runtime_files:
        parts.append(f"requirements: {', '.join(found.runtime_files)}")
    parts += [f"{origin}: {', '.join(items)}" for origin, items in found.origins.items()]
    if added:
        parts.append(f"adds {', '.join(added)} (for pytest and its configuration)")
    if version:
        parts.append(
            f"version from git: the build is told SETUPTOOLS_SCM_PRETEND_VERSION={version}"
        )
    return "; ".join([*parts, *found.notes])


def _commands(
    tool: str,
    env: str,
    python: str | None,
    extras: list[str],
    groups: list[str],
) -> list[str]:
    """The commands that create `.venv` and, with a lock tool, install the project with its
    extras and groups (pip's dependency groups are listed: only pip ≥ 25.1 knows --group)."""
    interpreter = f"python{python or '3'}"
    if tool == "uv":
        flags = [*(["--python", python] if python else [])]
        flags += [f for e in extras for f in ("--extra", e)]
        flags += [f for g in groups for f in ("--group", g)]
        return [f"{env}uv sync --frozen {shlex.join(flags)}".rstrip()]
    if tool == "poetry":
        flags = ["--with", ",".join(groups)] if groups else []
        flags += ["--extras", " ".join(extras)] if extras else []
        in_project = "POETRY_VIRTUALENVS_IN_PROJECT=true "
        use = [f"{in_project}poetry env use {interpreter}"] if python else []
        install = f"{in_project}{env}poetry install --no-interaction {shlex.join(flags)}"
        return [*use, install.rstrip()]
    if tool == "pdm":
        flags = [f for name in [*extras, *groups] for f in ("-G", name)]
        use = [f"pdm use -f {shlex.quote(python)}"] if python else []
        return [*use, f"{env}pdm install --frozen-lockfile {shlex.join(flags)}".rstrip()]
    return [f"{interpreter} -m venv {VENV}"]  # pip installs it all in one go, after


def pytest_plugins(found: PythonFiles) -> list[str]:
    """The plugins pytest's own configuration needs: its options, settings, required_plugins."""
    settings = _pytest_settings(found)
    addopts = settings.get("addopts", "")
    plugins = [plugin for pattern, plugin in PLUGIN_OPTIONS if pattern.search(addopts)]
    plugins += [plugin for key, plugin in PLUGIN_SETTINGS.items() if key in settings]
    return plugins + settings.get("required_plugins", "").split()


def _pytest_settings(found: PythonFiles) -> dict[str, str]:
    for name, section in PYTEST_CONFIGS:
        if section is None:
            tool = table(found.pyproject, "tool", "pytest")  # ini_options, or pytest 9's own
            settings = table(tool, "ini_options") or tool
            if settings:
                return {key.lower(): _joined(value) for key, value in settings.items()}
            continue
        parser = found.ini(name) if (found.root / name).is_file() else None
        if parser is not None and (parser.has_section(section) or name.endswith("pytest.ini")):
            items = parser.items(section) if parser.has_section(section) else []
            return {key.lower(): value for key, value in items}
    return {}


def _joined(value: Any) -> str:
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


def package_version(found: PythonFiles) -> str | None:
    """The version an sdist records in PKG-INFO, for a build that cannot ask git."""
    for line in (found.text("PKG-INFO") or "").splitlines():
        if line.startswith("Version:"):
            return line.removeprefix("Version:").strip() or None
    return None
