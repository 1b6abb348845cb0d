"""The deploy files name real commands: what Docker would run works outside Docker."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

REPOCREW = str(Path(sys.executable).with_name("repocrew"))
DOCKERFILE = (REPO / "deploy" / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((REPO / "deploy" / "compose.yaml").read_text())


def _dockerfile_json(instruction: str) -> list[str]:
    match = re.search(rf"^{instruction} (\[.*\])$", DOCKERFILE, re.M)
    assert match, instruction
    return json.loads(match.group(1))


def _accepts(arguments: list[str]) -> None:
    """Typer parses the arguments: `--help` after them fails on an unknown command or option."""
    result = subprocess.run(
        [REPOCREW, *arguments, "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_the_image_runs_repocrew_serve_as_a_non_root_user():
    assert _dockerfile_json("ENTRYPOINT") == ["repocrew"]
    _accepts(_dockerfile_json("CMD"))
    assert re.search(r"^USER repocrew$", DOCKERFILE, re.M)
    assert "/healthz" in DOCKERFILE


@pytest.mark.parametrize("service", ["web", "worker", "scheduler"])
def test_compose_services_run_repocrew_commands(service):
    definition = COMPOSE["services"][service]
    assert "postgresql://" in definition["environment"]["REPOCREW_DATABASE_URL"]
    _accepts(definition["command"])
