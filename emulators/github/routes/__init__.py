"""One module per resource; importing a module registers its handlers."""

from __future__ import annotations

import importlib

MODULES = [
    "app",
    "statuses",
    "checks",
    "git",
    "contents",
    "pulls",
    "reviews",
    "issues",
    "assignees",
    "repos",
    "graphql",
    "manifests",
    "oauth",
]


def load_all() -> None:
    for name in MODULES:
        importlib.import_module(f"emulators.github.routes.{name}")
