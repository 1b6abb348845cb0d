"""The crew's prompts: Jinja2 files beside this module, overridable per repository.

Rendered with StrictUndefined, so a template that names a missing variable fails loudly
instead of sending the model a hole.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, DictLoader, Environment, FileSystemLoader, StrictUndefined

PROMPTS = Path(__file__).parent


class PromptLibrary:
    """Templates by name (`system`, `steps/plan`, `roles/planner`); repo overrides come first."""

    def __init__(self, overrides: Mapping[str, str] | None = None) -> None:
        loaders = [FileSystemLoader(str(PROMPTS))]
        if overrides:
            loaders.insert(0, DictLoader({f"{k}.md.j2": v for k, v in overrides.items()}))
        self.environment = Environment(
            loader=ChoiceLoader(loaders),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            autoescape=False,  # noqa: S701 - prompts are plain text for the model, not HTML
        )

    def has(self, name: str) -> bool:
        return f"{name}.md.j2" in self.environment.list_templates()

    def render(self, name: str, **variables: Any) -> str:
        return self.environment.get_template(f"{name}.md.j2").render(**variables).strip() + "\n"
