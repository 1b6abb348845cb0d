"""The deploy files name real commands and settings: what Docker would run works outside Docker.

No Docker engine runs here, so the image is never built nor compose brought up; what they would
run is run instead: the CLI commands, the env settings, `db upgrade` on PostgreSQL, the image's
CMD serving the HEALTHCHECK's URL.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest
import yaml

from bot.settings import Settings
from bot.store.engine import make_engine
from bot.store.migrate import current_revision, head_revision
from emulators.server import free_port
from tests.conftest import REPO

REPOCREW = str(Path(sys.executable).with_name("repocrew"))
DOCKERFILE = (REPO / "deploy" / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((REPO / "deploy" / "compose.yaml").read_text())
PROCESSES = ["web", "worker", "scheduler"]


def setting_env_names() -> set[str]:
    """Every variable `Settings` reads (REPOCREW_<FIELD>, or the field's alias)."""
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names.add(alias.choices[0] if alias is not None else f"REPOCREW_{name.upper()}")
    return names


def dockerfile_json(instruction: str) -> list[str]:
    match = re.search(rf"^{instruction} (\[.*\])$", DOCKERFILE, re.M)
    assert match, instruction
    return json.loads(match.group(1))


def accepts(arguments: list[str]) -> None:
    """Typer parses the arguments: `--help` after them fails on an unknown command or option."""
    result = subprocess.run(
        [REPOCREW, *arguments, "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def clean_environment(**settings: str) -> dict[str, str]:
    """This shell's environment without repocrew settings, plus `settings`."""
    kept = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("REPOCREW_") and key != "ANTHROPIC_API_KEY"
    }
    return {**kept, **settings}


def test_the_image_runs_repocrew_serve_as_a_non_root_user():
    assert dockerfile_json("ENTRYPOINT") == ["repocrew"]
    accepts(dockerfile_json("CMD"))
    assert re.search(r"^USER repocrew$", DOCKERFILE, re.M)
    assert re.search(r"useradd .*--uid 10001 repocrew", DOCKERFILE)
    assert "/healthz" in DOCKERFILE


def test_the_image_is_multi_stage_slim_with_bubblewrap():
    stages = re.findall(r"^FROM (\S+)", DOCKERFILE, re.M)
    assert len(stages) == 2 and all(image.endswith("-slim") for image in stages)
    assert re.search(r"apt-get install [^\n]*\bbubblewrap\b", DOCKERFILE)
    assert "COPY --from=build" in DOCKERFILE


def test_the_build_stage_copies_every_package_the_wheel_ships():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    shipped = project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    copied = set(re.findall(r"^COPY (\S+) \./\1$", DOCKERFILE, re.M))
    assert set(shipped) <= copied, "deploy/Dockerfile must COPY every wheel package"
    assert re.search(r"^COPY pyproject\.toml README\.md \./$", DOCKERFILE, re.M)


def test_the_healthcheck_probes_the_port_the_command_serves():
    command = dockerfile_json("CMD")
    port = command[command.index("--port") + 1]
    assert re.search(rf"^EXPOSE {port}$", DOCKERFILE, re.M)
    assert re.search(rf"^HEALTHCHECK .*http://127\.0\.0\.1:{port}/healthz", DOCKERFILE, re.M)


def test_the_images_env_names_real_settings():
    names = set(re.findall(r"^ENV (\w+)=", DOCKERFILE, re.M))
    assert names and names <= setting_env_names()


@pytest.mark.parametrize("service", ["migrate", *PROCESSES])
def test_compose_services_run_repocrew_commands(service):
    definition = COMPOSE["services"][service]
    assert "postgresql://" in definition["environment"]["REPOCREW_DATABASE_URL"]
    accepts(definition["command"])


def test_compose_settings_are_real_settings():
    for name in PROCESSES:
        assert set(COMPOSE["services"][name]["environment"]) <= setting_env_names()


def test_compose_migrates_once_before_the_processes_start():
    assert COMPOSE["services"]["migrate"]["command"] == ["db", "upgrade"]
    assert COMPOSE["services"]["migrate"]["restart"] == "no"
    for name in PROCESSES:
        needs = COMPOSE["services"][name]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully"
        assert needs["postgres"]["condition"] == "service_healthy"


def test_compose_keeps_postgresql_in_a_named_volume():
    postgres = COMPOSE["services"]["postgres"]
    volume, path = postgres["volumes"][0].split(":")
    assert volume in COMPOSE["volumes"] and path == "/var/lib/postgresql/data"
    url = COMPOSE["services"]["web"]["environment"]["REPOCREW_DATABASE_URL"]
    environment = postgres["environment"]
    assert url == (
        f"postgresql://{environment['POSTGRES_USER']}:{environment['POSTGRES_PASSWORD']}"
        f"@postgres:5432/{environment['POSTGRES_DB']}"
    )


@pytest.mark.postgres
def test_db_upgrade_migrates_postgresql_given_a_compose_style_url(postgres_url, tmp_path):
    # compose writes postgresql://user:password@host:port/db, without the driver name
    url = "postgresql://" + postgres_url.split("://", 1)[1]
    result = subprocess.run(
        [REPOCREW, "db", "upgrade"],
        env=clean_environment(REPOCREW_DATABASE_URL=url),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert f"store at revision {head_revision()}" in result.stdout
    engine = make_engine(postgres_url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_the_images_command_serves_the_healthcheck_url(tmp_path):
    """CMD as the image runs it (only the port is a free one), configured by the env alone."""
    port = str(free_port())
    command = dockerfile_json("CMD")
    command[command.index("--port") + 1] = port
    healthcheck = re.search(r"^HEALTHCHECK .*?(http://\S+)", DOCKERFILE, re.M)
    assert healthcheck
    url = re.sub(r":\d+/", f":{port}/", healthcheck.group(1))
    store = f"sqlite:///{tmp_path / 'repocrew.db'}"
    process = subprocess.Popen(
        [REPOCREW, *command],
        env=clean_environment(REPOCREW_DATABASE_URL=store),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(url, timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()[0]
                assert time.monotonic() < deadline, f"{url} never answered"
                time.sleep(0.2)
        assert response.status_code == 200 and response.json() == {"status": "ok"}
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    # uvicorn shuts down cleanly, then re-raises SIGTERM so the exit status says why it stopped
    assert process.returncode in (0, -15) and "Application shutdown complete" in output, output
    assert (tmp_path / "repocrew.db").exists()  # migrated on start, where REPOCREW_* said
