"""The architecture holds: the import contracts (pyproject.toml, checked by `lint-imports` in
`make test`) are kept, each would catch the import it forbids, and modules stay small."""

from __future__ import annotations

import ast
import copy
from pathlib import Path

import grimp
import pytest
from importlinter import configuration
from importlinter.application import use_cases
from importlinter.contracts.acyclic_siblings import AcyclicSiblingsContract
from importlinter.contracts.layers import LayersContract
from importlinter.contracts.protected import ProtectedContract

from tests.conftest import REPO

configuration.configure()
OPTIONS = use_cases.read_user_options(str(REPO / "pyproject.toml"))
KINDS = {
    "layers": LayersContract,
    "protected": ProtectedContract,
    "acyclic_siblings": AcyclicSiblingsContract,
}
CONTRACTS = {options["name"]: options for options in OPTIONS.contracts_options}

# For each contract (by the start of its name), one import it exists to forbid: added to the
# real graph (a scratch change that never touches a file), the contract must break. A new
# contract needs its line here.
FORBIDDEN = {
    "Composition": ("bot.runs.driver", "webhooks.app"),
    "Cycles": ("bot.store.runs", "bot.runs.states"),
    "Layers in bot": ("bot.roster.models", "bot.runs.driver"),
    "PyGithub": ("bot.triggers.starting", "github"),
    "slack_sdk": ("bot.runs.announce", "slack_sdk"),
    "anthropic": ("bot.runs.driver", "anthropic"),
    "APScheduler": ("bot.standups.run", "apscheduler"),
    "tree-sitter": ("bot.runs.repository", "tree_sitter"),
    "SQLAlchemy": ("bot.triggers.starting", "sqlalchemy"),
    "The web framework": ("bot.runs.driver", "fastapi"),
    "Adapters are built": ("bot.triggers.starting", "bot.github.forge"),
}

CODE = ("bot", "webhooks", "jobs", "emulators", "repocrew", "bench")
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 300, 60


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    roots = OPTIONS.session_options["root_packages"]
    return grimp.build_graph(*roots, include_external_packages=True, cache_dir=None)


def _check(name: str, graph: grimp.ImportGraph) -> bool:
    options = CONTRACTS[name]
    contract = KINDS[options["type"]](
        name=name, session_options=OPTIONS.session_options, contract_options=options
    )
    return contract.check(copy.deepcopy(graph), verbose=False).kept


def _contract(key: str) -> str:
    (name,) = [name for name in CONTRACTS if name.startswith(key)]
    return name


def test_every_contract_is_kept(graph):
    assert {name: _check(name, graph) for name in CONTRACTS} == dict.fromkeys(CONTRACTS, True)


def test_every_contract_has_a_forbidden_import_to_prove_it():
    assert sorted(_contract(key) for key in FORBIDDEN) == sorted(CONTRACTS)


@pytest.mark.parametrize("key", FORBIDDEN)
def test_a_contract_breaks_when_its_forbidden_import_appears(graph, key):
    importer, imported = FORBIDDEN[key]
    scratch = copy.deepcopy(graph)
    scratch.add_import(importer=importer, imported=imported)
    assert _check(_contract(key), graph) is True
    assert _check(_contract(key), scratch) is False


def test_no_contract_exempts_an_import():
    assert [name for name, options in CONTRACTS.items() if options.get("ignore_imports")] == []


def _sizes(path: Path) -> tuple[int, list[tuple[str, int]]]:
    text = path.read_text(encoding="utf-8")
    functions = [
        (node.name, node.end_lineno - node.lineno + 1)
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    return len(text.splitlines()), functions


def _says_why(path: Path) -> bool:
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return any(line.startswith("Size: ") for line in docstring.splitlines())


def test_modules_and_functions_are_small_or_say_why():
    too_big = []
    for root in CODE:
        for path in sorted((REPO / root).rglob("*.py")):
            lines, functions = _sizes(path)
            long = [f"{name} ({n})" for name, n in functions if n > MAX_FUNCTION_LINES]
            if (lines > MAX_MODULE_LINES or long) and not _says_why(path):
                too_big.append(f"{path.relative_to(REPO)}: {lines} lines {' '.join(long)}")
    assert too_big == []


def test_the_size_rule_sees_a_long_function(tmp_path):
    source = tmp_path / "long.py"
    source.write_text("def f():\n" + "    x = 1\n" * 70)
    assert _sizes(source) == (71, [("f", 71)]) and not _says_why(source)
