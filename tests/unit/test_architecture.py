"""Import rules: the domain (bot/) never imports the web framework, bolt or the scheduler."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

FORBIDDEN_IN_BOT = (
    "fastapi",
    "starlette",
    "slack_bolt",
    "apscheduler",
    "uvicorn",
    "webhooks",
    "jobs",
)


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_the_domain_does_not_import_the_edges():
    offenders = {
        str(path.relative_to(REPO)): sorted(_imports(path) & set(FORBIDDEN_IN_BOT))
        for path in (REPO / "bot").rglob("*.py")
        if path.name != "cli.py"  # the command line composes the processes
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_rule_sees_imports():
    assert "fastapi" in _imports(REPO / "webhooks" / "app.py")
