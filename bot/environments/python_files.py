"""What a repository's Python files declare about its dependencies, read and never executed.

pyproject.toml and tox.toml by tomllib, setup.cfg and tox.ini by configparser, setup.py and
noxfile.py as syntax trees (`ast`), requirements files line by line. Only the first word of a
requirement (its name, PEP 508) is ever needed here, to know whether pytest comes with them;
pip parses the rest.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.environments.plan import Checkout, strings, table
from bot.environments.python_syntax import (
    callee,
    dict_items,
    literal_strings,
    syntax_tree,
)
from bot.environments.python_syntax import setting_lines as _lines

# Build back-ends that take the version from git: a checkout without tags (or one git refuses
# as "dubious ownership") fails to build unless the version is given.
VCS_VERSIONED = frozenset("setuptools-scm hatch-vcs flit-scm vcs-versioning".split())
# Requirements files by the words in their names: runtime ones, and those for tests or dev.
RUNTIME_STEMS = frozenset("requirements base main prod production common install runtime".split())
TEST_FOLDERS = ("tests", "test", "testing")
_NAME = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")
_FACTOR = re.compile(r"^[\w{},.!-]+:\s")  # tox's `py311: dep` holds for some environments only
_PROJECT_ITSELF = re.compile(r"^(-e\s*)?\.(\[([\w,\s-]+)\])?$")  # `.`, `-e .`, `.[test]`


@dataclass
class PythonFiles(Checkout):
    """What a repository's Python files declare; `read` fills it, the planner decides."""

    pyproject: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, list[str] | None] = field(default_factory=dict)  # None: not a literal
    extras_in: dict[str, str] = field(default_factory=dict)  # the file declaring each extra
    groups: dict[str, list[str]] = field(default_factory=dict)  # PEP 735, poetry, pdm
    tox_extras: list[str] = field(default_factory=list)  # what tox's test environment installs
    tox_told: bool = False  # tox's test environment names the tests' needs, every line read
    requirements: list[str] = field(default_factory=list)  # specs for the tests
    test_files: list[str] = field(default_factory=list)  # requirements files for the tests
    runtime_files: list[str] = field(default_factory=list)  # requirements.txt and the like
    dev_files: list[str] = field(default_factory=list)  # used only when nothing names tests
    listed: dict[str, set[str]] = field(default_factory=dict)  # file → names (and includes')
    installable: bool = False  # pip can install the project itself
    vcs: bool = False  # its version comes from git

    @classmethod
    def read(cls, root: Path) -> PythonFiles:
        found = cls(Path(root))
        found.pyproject = found.toml("pyproject.toml")
        found.installable = bool({"project", "build-system"} & set(found.pyproject))
        for reader in (_pyproject, _setup_cfg, _setup_py, _tox, _requirement_files):
            reader(found)
        return found

    origins: dict[str, list[str]] = field(default_factory=dict)  # where each was found

    def declares_anything(self) -> bool:
        listed = (self.requirements, self.test_files, self.runtime_files, self.dev_files)
        return self.installable or any(listed) or bool(self.groups)

    def extra(self, name: str, specs: list[str] | None, origin: str) -> None:
        if name not in self.extras:
            self.extras[name], self.extras_in[name] = specs, origin

    def need(self, origin: str, *, specs: Iterable[str] = (), files: Iterable[str] = ()) -> None:
        """Requirements the tests need (specs, or requirements files), each once, noting
        where they were found for the plan's reason."""
        for spec in specs:
            if spec not in self.requirements:
                self.requirements.append(spec)
                self.origins.setdefault(origin, []).append(spec)
        for name in files:
            if name not in self.test_files:
                self.test_files.append(name)
                self.origins.setdefault(origin, []).append(name)


def normal(name: str) -> str:
    """A distribution or extra name as PEP 503/685 compare them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def names(specs: Iterable[str]) -> set[str]:
    """The distribution names of requirement specs (a PEP 508 spec starts with its name)."""
    return {normal(match.group(1)) for spec in specs if (match := _NAME.match(spec))}


def _pyproject(found: PythonFiles) -> None:
    data = found.pyproject
    extras = table(data, "project", "optional-dependencies")
    for name, specs in extras.items():
        found.extra(name, strings(specs), "pyproject.toml")
    groups = table(data, "dependency-groups")
    found.groups.update({name: _group(groups, name, frozenset()) for name in groups})
    poetry = table(data, "tool", "poetry")
    for name in table(poetry, "group"):  # `pytest = "^8"`: names only
        found.groups.setdefault(name, sorted(set(table(poetry, "group", name, "dependencies"))))
    if table(poetry, "dev-dependencies"):
        found.groups.setdefault("dev", sorted(table(poetry, "dev-dependencies")))
    for name, specs in table(data, "tool", "pdm", "dev-dependencies").items():
        found.groups.setdefault(name, strings(specs))
    backend = names(strings(table(data, "build-system").get("requires")))
    hatch_vcs = table(data, "tool", "hatch", "version").get("source") == "vcs"
    found.vcs = (
        bool(backend & VCS_VERSIONED) or "setuptools_scm" in table(data, "tool") or hatch_vcs
    )


def _group(groups: dict[str, Any], name: str, seen: frozenset[str]) -> list[str]:
    """A PEP 735 group's requirements, its `{include-group = ...}` entries expanded."""
    specs: list[str] = []
    for entry in groups.get(name) if isinstance(groups.get(name), list) else []:
        if isinstance(entry, str):
            specs.append(entry)
        elif isinstance(entry, dict) and isinstance(entry.get("include-group"), str):
            if entry["include-group"] not in seen | {name}:  # a cycle is read once
                specs += _group(groups, entry["include-group"], seen | {name})
    return specs


def _setup_cfg(found: PythonFiles) -> None:
    parser = found.ini("setup.cfg")
    if parser is not None and parser.has_section("options.extras_require"):
        for name, value in parser.items("options.extras_require"):
            found.extra(name, _lines(value), "setup.cfg")


def _setup_py(found: PythonFiles) -> None:
    """setup.py's extras_require and tests_require, read as a syntax tree, never executed."""
    text = found.text("setup.py")
    if text is None:
        return
    found.installable = True
    tree = syntax_tree(text)
    if tree is None:
        found.notes.append("setup.py does not parse (its extras are unknown)")
        return
    assigned = {
        target.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    for call in ast.walk(tree):
        if not (isinstance(call, ast.Call) and callee(call) == "setup"):
            continue
        given = {kw.arg: kw.value for kw in call.keywords if kw.arg}
        given = {
            key: assigned.get(value.id, value) if isinstance(value, ast.Name) else value
            for key, value in given.items()
        }
        extras = given.get("extras_require")
        for key, value in dict_items(extras):
            found.extra(key, literal_strings(value), "setup.py")
        if isinstance(extras, ast.expr) and not isinstance(extras, ast.Dict):
            found.notes.append("setup.py computes extras_require (not read)")
        found.need(
            "setup.py tests_require", specs=literal_strings(given.get("tests_require")) or []
        )
        scm = names(literal_strings(given.get("setup_requires")) or [])
        found.vcs |= "use_scm_version" in given or bool(scm & VCS_VERSIONED)


def _tox(found: PythonFiles) -> None:
    """The base test environment of tox (tox.ini, tox.toml or [tool.tox]): its extras and
    deps are the project's own statement of what its tests need."""
    extras: list[str] = []
    deps: list[str] = []
    parser = found.ini("tox.ini")
    if parser is not None and parser.has_section("testenv"):
        extras = _lines(parser.get("testenv", "extras", fallback=""))
        deps = _lines(parser.get("testenv", "deps", fallback=""))
    native = found.toml("tox.toml") or table(found.pyproject, "tool", "tox")
    extras += strings(table(native, "env_run_base").get("extras"))
    deps += strings(table(native, "env_run_base").get("deps"))
    extras = [value for line in extras if (value := line_for_tests(line))]
    deps = [value.replace("{toxinidir}/", "") for dep in deps if (value := line_for_tests(dep))]
    found.tox_told = bool(extras or deps) and not any("{" in line for line in extras + deps)
    extras = [line for line in extras if "{" not in line]  # `{env:EXTRAS:}`: not known here
    found.tox_extras += [extra.strip() for line in extras for extra in line.split(",")]
    pip_arguments(found, deps, origin="tox deps" if parser is None else "tox.ini deps")


def line_for_tests(line: str) -> str | None:
    """A tox setting's line as its test environments see it: a plain line holds for every
    environment; one for some only (`py311,py312: x`, `tests-cov: x`) when a factor of its
    condition is named for tests (`tests: x`, not `pytestmain: x`), else None."""
    condition = _FACTOR.match(line)
    if condition is None:
        return line
    factors = re.split(r"[,-]", condition.group(0).rstrip().removesuffix(":"))
    tests = any(factor.strip().lower().startswith("test") for factor in factors)
    return line[condition.end() :].strip() if tests else None


def pip_arguments(found: PythonFiles, items: Iterable[str], *, origin: str) -> None:
    """Requirements as tox or nox list them: the project itself with extras, `-r FILE`, specs;
    lines for some environments only (`py311: x`) and substitutions (`{x}`) are skipped."""
    for item in items:
        line = item.strip()
        itself = _PROJECT_ITSELF.match(line)
        if itself:
            found.tox_extras += [e.strip() for e in (itself.group(3) or "").split(",") if e]
        elif line.startswith(("-r", "--requirement")):
            name = line.removeprefix("--requirement").removeprefix("-r").strip(" =")
            if _requirements_file(found, name):
                found.need(origin, files=[name])
        elif line and not (_FACTOR.match(line) or "{" in line or line.startswith("-")):
            found.need(origin, specs=[line])


def _requirements_file(found: PythonFiles, name: str, seen: frozenset[str] = frozenset()) -> bool:
    """Read a requirements file and those it includes (a cache key hashes them all, and the
    names they list tell whether pytest comes with them); False if it is not in the checkout."""
    root = found.root.resolve()
    path = (found.root / name).resolve()
    if not (path.is_relative_to(root) and path.is_file()) or name in seen:
        return False
    listed = found.listed.setdefault(name, set())
    for line in _lines(found.text(name) or ""):
        option, _, rest = line.partition(" ")
        if option in ("-r", "-c", "--requirement", "--constraint") and rest.strip():
            included = (path.parent / rest.strip()).resolve()
            relative = (
                included.relative_to(root).as_posix() if included.is_relative_to(root) else ""
            )
            if relative and _requirements_file(found, relative, seen | {name}):
                listed |= found.listed[relative] if option in ("-r", "--requirement") else set()
        elif not line.startswith("-"):
            listed |= names([line])
    return True


def _requirement_files(found: PythonFiles) -> None:
    """requirements*.txt at the root and requirements/*.txt: those named for tests (or, kept
    aside, for dev), and the runtime ones; docs, lint and typing ones are not the tests'. Any
    in the tests' own folder (tests/requirements.txt) are the tests', unless tox says what its
    tests install: files it does not name are then for other Pythons or other tools."""
    paths = [*sorted(found.root.glob("*requirements*.txt"))]
    paths += sorted(found.root.glob("requirements/*.txt"))
    beside_tests = [
        p for d in TEST_FOLDERS for p in sorted(found.root.glob(f"{d}/*requirements*.txt"))
    ]
    for path in paths + beside_tests:
        name, stem = path.relative_to(found.root).as_posix(), path.stem.lower()
        runtime = re.sub(r"[-_]?requirements[-_]?", "", stem) in RUNTIME_STEMS | {""}
        if "test" in stem or path in beside_tests:
            if not found.tox_told and _requirements_file(found, name):
                found.need("requirements files", files=[name])
        elif "dev" in stem and _requirements_file(found, name):  # used if nothing names tests
            found.dev_files.append(name)
        elif runtime and _requirements_file(found, name):
            found.runtime_files.append(name)


def nox_requirements(found: PythonFiles) -> None:
    """What noxfile.py's test sessions install (`session.install("pytest", ".[test]")`): a
    hint used only when nothing else names the tests' dependencies."""
    tree = syntax_tree(found.text("noxfile.py") or "")
    sessions = (
        [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)] if tree else []
    )
    words = [
        arg.value
        for session in sessions
        if "test" in session.name
        for call in ast.walk(session)
        if isinstance(call, ast.Call) and callee(call) == "install"
        for arg in call.args
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
    ]
    # `session.install("-r", "requirements.txt")` names the file in the next argument.
    items = [
        f"-r {word}" if before in ("-r", "--requirement") else word
        for before, word in zip(["", *words], words, strict=False)
    ]
    pip_arguments(found, items, origin="noxfile.py")
