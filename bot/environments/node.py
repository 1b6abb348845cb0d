"""How a Node repository is set up and tested: package.json, its lockfile and its test script.

A lockfile's own tool installs only when it is on PATH (corepack counts for yarn and pnpm);
otherwise npm does, and the reason says the lock is not honoured. A registry may refuse part of
a full install (a lint or bundling tool at a version it does not have): the set-up then falls
back to what the tests need, the dependencies, the dev dependencies the test files import and
the programs the test script runs, installed aside and moved into node_modules.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

from bot.environments.plan import (
    NODE_MODULES,
    Checkout,
    EnvironmentPlan,
    TestRunner,
    expand,
    program_of,
    runner_of,
)
from bot.roster.sections import EnvironmentConfig, TestsConfig

# Lockfiles, in the order they are looked for, and the tool each belongs to.
LOCKFILES = (
    ("package-lock.json", "npm"),
    ("npm-shrinkwrap.json", "npm"),
    ("pnpm-lock.yaml", "pnpm"),
    ("yarn.lock", "yarn"),
    ("bun.lock", "bun"),
    ("bun.lockb", "bun"),
)
NPM_QUIET = "--no-audit --no-fund"
PLACEHOLDER = "no test specified"  # the test script `npm init` writes, which only fails
# What pretest and posttest scripts run to check rather than to build: with only these the
# tests run without them (`--ignore-scripts` skips pre- and post-scripts, not the script).
CHECKS = frozenset(
    "eslint prettier tslint standard semistandard xo evalmd eclint attw publint ls-engines"
    " depcheck lockfile-lint aud audit-ci npmignore safe-publish-latest markdownlint".split()
)
BINARIES = {"tsc": "typescript", "_mocha": "mocha", "ts-mocha": "ts-mocha"}  # → package
TEST_DIRS = ("test", "tests", "__tests__", "spec")
SOURCE_SUFFIXES = frozenset(".js .cjs .mjs .jsx .ts .cts .mts .tsx".split())
MAX_TEST_FILES = 500
MAX_BYTES = 200_000
_IMPORT = re.compile(
    r"""\brequire\s*\(\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]"""
    r"""|\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]""",
    re.MULTILINE,
)


def package_json(root: Path) -> dict[str, Any] | None:
    """package.json as data, or None when there is none (or it is not a JSON object)."""
    text = Checkout(Path(root)).text("package.json")
    try:
        data = json.loads(text) if text is not None else None
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def node_plan(
    root: Path,
    package: Mapping[str, Any],
    *,
    tests: TestsConfig,
    environment: EnvironmentConfig,
    tools: Collection[str] = (),
) -> EnvironmentPlan:
    """The plan for a checkout whose manifest is package.json."""
    scripts = _strings(package.get("scripts"))
    lock = next(((name, tool) for name, tool in LOCKFILES if (root / name).is_file()), None)
    install, reason = _install(root, package, lock, frozenset(tools))
    command, runner, why = _test_command(tests, scripts)
    if install.startswith("npm "):
        fallbacks = _fallbacks(root, package, scripts, command)
        install = " || ".join([install, *(f"{{ {fallback}; }}" for fallback in fallbacks)])
        if fallbacks:
            reason += "; if the registry refuses it, only what the tests need"
    engines = package.get("engines")
    wanted = engines.get("node") if isinstance(engines, dict) else None
    settings = [name for name in (".npmrc", ".yarnrc.yml", ".nvmrc") if (root / name).is_file()]
    return EnvironmentPlan(
        kind="node",
        setup=(install,),
        test_command=command,
        test_runner=runner,
        depends_on=("package.json", *([lock[0]] if lock else []), *settings),
        python=environment.python,
        node=environment.node or (wanted if isinstance(wanted, str) else None),
        cache=environment.cache,
        reason=f"{reason}; {why}",
        environment_dir=NODE_MODULES,
        path=(f"{NODE_MODULES}/.bin",),
        explicit_test_command=tests.command is not None,
    )


def _strings(value: Any) -> dict[str, str]:
    items = value.items() if isinstance(value, dict) else ()
    return {str(key): item for key, item in items if isinstance(item, str)}


def _install(
    root: Path, package: Mapping[str, Any], lock: tuple[str, str] | None, tools: frozenset[str]
) -> tuple[str, str]:
    """The install command and, in words, why."""
    if lock is None:
        return f"npm install {NPM_QUIET}", "package.json without a lockfile → npm install"
    name, tool = lock
    if tool == "npm":
        return f"npm ci {NPM_QUIET}", f"{name} → npm ci"
    manager = str(package.get("packageManager", ""))
    berry = (root / ".yarnrc.yml").is_file() or bool(re.match(r"yarn@[2-9]", manager))
    frozen = "--immutable" if tool == "yarn" and berry else "--frozen-lockfile"
    if tool in ("yarn", "pnpm") and "corepack" in tools:
        return f"corepack {tool} install {frozen}", f"{name} → corepack {tool} install"
    if tool in tools:
        return f"{tool} install {frozen}", f"{name} → {tool} install"
    missing = f"neither corepack nor {tool}" if tool != "bun" else "no bun"
    return (
        f"npm install {NPM_QUIET}",
        f"{name}, but {missing} on PATH → npm install (the lock is not honoured)",
    )


def _test_command(
    tests: TestsConfig, scripts: Mapping[str, str]
) -> tuple[tuple[str, ...], TestRunner, str]:
    """The test command, its runner, and in words why."""
    if tests.command is not None:
        runner = runner_of(tests.command, scripts)
        return tests.command, runner, f"[tests] command ({runner})"
    script = scripts.get("test", "")
    if not script.strip() or PLACEHOLDER in script:
        return ("node", "--test"), "node-test", "no test script → node --test"
    runner = runner_of(("npm", "test"), scripts)
    hooks = [hook for hook in ("pretest", "posttest") if hook in scripts]
    if hooks and all(_checks_only(scripts[hook], scripts) for hook in hooks):
        skipped = " and ".join(hooks)
        why = f"test script → npm test ({runner}), without its {skipped} (checks, not tests)"
        return ("npm", "test", "--ignore-scripts"), runner, why
    return ("npm", "test"), runner, f"test script → npm test ({runner})"


def _checks_only(script: str, scripts: Mapping[str, str]) -> bool:
    for words in expand(script, scripts):
        program = program_of(words)
        if not program:
            continue
        name = program[0]
        audit = name.split("@")[0] in ("npm", "yarn", "pnpm") and "audit" in program
        if not (name in CHECKS or audit):
            return False
    return True


def _fallbacks(
    root: Path, package: Mapping[str, Any], scripts: Mapping[str, str], command: tuple[str, ...]
) -> list[str]:
    """Installs of only what the tests need, aside, then made node_modules: first at the
    declared ranges, then with the dev packages at the registry's latest (the ranges of the
    runtime dependencies kept), for a registry that lacks a version a range asks for."""
    runtime = _strings(package.get("dependencies"))
    declared = {**_strings(package.get("devDependencies")), **runtime}
    words = {word for commands in expand(shlex.join(command), scripts) for word in commands}
    needed = set(runtime) | {BINARIES.get(word, word) for word in words} | _imported(root)
    chosen = sorted(name for name in declared if name in needed)
    ranged = [_spec(name, declared[name]) for name in chosen]
    loose = [_spec(name, runtime[name]) if name in runtime else name for name in chosen]
    tries = [ranged] if chosen and len(chosen) < len(declared) else []
    tries += [loose] if chosen and loose != ranged else []
    return [
        f'd=$(mktemp -d) && npm install --prefix "$d" --no-save --no-package-lock {NPM_QUIET} '
        f'{shlex.join(specs)} && rm -rf {NODE_MODULES} && mv "$d/{NODE_MODULES}" {NODE_MODULES}'
        for specs in tries
    ]


def _spec(name: str, version: str) -> str:
    """`name@range` for a registry range; the name alone for git, file and workspace ones."""
    return name if re.search(r"[:/]", version) else f"{name}@{version}"


def _imported(root: Path) -> set[str]:
    """The packages the test files import or require (`@scope/name/x` is `@scope/name`)."""
    found: set[str] = set()
    for path in _test_files(root):
        with path.open("rb") as file:
            text = file.read(MAX_BYTES).decode("utf-8", errors="replace")
        for match in _IMPORT.finditer(text):
            spec = next(group for group in match.groups() if group)
            if spec.startswith((".", "/", "node:")):
                continue
            parts = spec.split("/")
            found.add("/".join(parts[:2]) if spec.startswith("@") else parts[0])
    return found


def _test_files(root: Path) -> Iterator[Path]:
    """Sources under test directories, and *.test.* / *.spec.* files anywhere, up to a limit;
    never node_modules, .git, or what a symlink leads to outside the checkout."""
    count, top = 0, root.resolve()
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = [d for d in subdirectories if d not in (NODE_MODULES, ".git")]
        in_tests = any(part in TEST_DIRS for part in Path(directory).relative_to(root).parts)
        for name in files:
            path = Path(directory) / name
            named = ".test." in name or ".spec." in name
            if path.suffix in SOURCE_SUFFIXES and (in_tests or named):
                if path.resolve().is_relative_to(top) and path.is_file():
                    count += 1
                    yield path
            if count >= MAX_TEST_FILES:
                return
