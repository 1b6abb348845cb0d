"""deploy/compose.yaml's references hold together, read as YAML (no Docker engine runs here):
every volume, config and secret a service names is declared; the crew file and the App's key are
mounted files whose paths the settings name; their default sources are the files `repocrew init`
and `repocrew setup github` write beside `.env`; the data lives in named volumes.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

import pytest

from bot.operator.setup_github import save_credentials
from bot.settings import Settings
from tests.conftest import REPO
from tests.integration.test_deploy import COMPOSE, DOCKERFILE, PROCESSES

DEPLOY = REPO / "deploy"
REPOCREW_SERVICES = ["migrate", *PROCESSES]
SECRETS_DIR = PurePosixPath("/run/secrets")  # where compose mounts a secret with a relative target


def default_of(value: str) -> str:
    """`${NAME:-default}` as compose interpolates it with NAME unset."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)


def host_path(value: str) -> Path:
    """A compose file path, relative to the compose file's folder (the project directory)."""
    return (DEPLOY / default_of(value)).resolve()


def env_file() -> Path:
    (entry,) = COMPOSE["x-repocrew"]["env_file"]
    return host_path(entry["path"])


def mount_target(kind: str, reference: dict) -> PurePosixPath:
    target = PurePosixPath(reference.get("target", reference["source"]))
    return target if target.is_absolute() or kind == "configs" else SECRETS_DIR / target


@pytest.mark.parametrize("service", list(COMPOSE["services"]))
def test_every_volume_config_and_secret_a_service_names_is_declared(service):
    definition = COMPOSE["services"][service]
    for volume in definition.get("volumes", []):
        source = volume.split(":")[0]
        assert source in COMPOSE["volumes"], f"{service}: volume {source} is not declared"
    for kind in ("configs", "secrets"):
        for reference in definition.get(kind, []):
            assert reference["source"] in COMPOSE[kind], f"{service}: {kind} {reference}"


@pytest.mark.parametrize("service", REPOCREW_SERVICES)
def test_the_crew_file_and_the_key_are_mounted_where_the_settings_point(service):
    definition = COMPOSE["services"][service]
    environment = definition["environment"]
    (crew,) = definition["configs"]
    (key,) = definition["secrets"]
    assert environment["REPOCREW_CREW_FILE"] == str(mount_target("configs", crew))
    assert environment["REPOCREW_GITHUB_PRIVATE_KEY_PATH"] == str(mount_target("secrets", key))
    assert "REPOCREW_GITHUB_PRIVATE_KEY" not in environment  # never the key itself


def test_the_files_default_to_what_init_and_setup_github_write(tmp_path):
    crew = host_path(COMPOSE["configs"]["crew"]["file"])
    key = host_path(COMPOSE["secrets"]["github_private_key"]["file"])
    default_crew_file = Settings.model_fields["crew_file"].default
    assert crew == env_file().parent / default_crew_file  # `repocrew init` beside .env
    # what `repocrew setup github` (App name `repocrew`, --env-file .env) writes
    created = save_credentials(
        {"id": 1, "slug": "repocrew", "pem": "x"},
        env_file=tmp_path / ".env",
        api_url="https://api.github.com",
    )
    assert key == env_file().parent / created.key_file.name
    assert env_file() == REPO / ".env"
    ignored = (REPO / ".gitignore").read_text().splitlines()
    assert {"*.pem", ".env"} <= set(ignored)  # the files compose reads are never committed


def test_a_shell_variable_names_other_files():
    assert re.fullmatch(r"\$\{REPOCREW_CREW_TOML:-[^}]+\}", COMPOSE["configs"]["crew"]["file"])
    key = COMPOSE["secrets"]["github_private_key"]["file"]
    assert re.fullmatch(r"\$\{REPOCREW_GITHUB_KEY_FILE:-[^}]+\}", key)


def test_the_workers_workspaces_live_in_a_volume_the_image_prepares():
    worker = COMPOSE["services"]["worker"]
    targets = {volume.split(":")[1] for volume in worker["volumes"]}
    work_dir = worker["environment"]["REPOCREW_WORK_DIR"]
    assert work_dir in targets
    # a fresh named volume takes the owner of the image's folder: the image makes it as its user
    made = re.search(r"^USER repocrew\n(?:.*\n)*?RUN mkdir -p (.+)$", DOCKERFILE, re.M)
    assert made and work_dir in made.group(1).split()


def test_the_image_keeps_its_sqlite_store_in_a_folder_it_owns():
    (url,) = re.findall(r"^ENV REPOCREW_DATABASE_URL=sqlite:///(\S+)$", DOCKERFILE, re.M)
    made = re.search(r"^RUN mkdir -p (.+)$", DOCKERFILE, re.M)
    assert made and str(PurePosixPath(url).parent) in made.group(1).split()


def test_postgresql_keeps_its_data_in_a_named_volume():
    (volume,) = COMPOSE["services"]["postgres"]["volumes"]
    source, target = volume.split(":")
    assert source in COMPOSE["volumes"] and target == "/var/lib/postgresql/data"
