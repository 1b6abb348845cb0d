"""What the chart takes from values besides settings: the image the operator built, the crew file
(a ConfigMap) and the GitHub App's key (a Secret), each mounted read-only as a file where its
setting points, in the web, worker and scheduler pods; never the key inline in the environment.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from bot.roster.loader import parse_crew, roster_text
from tests.integration.test_helm_chart import (
    IMAGE,
    WORKLOADS,
    container,
    helm_binary,
    pod,
    render,
)

PROCESSES = WORKLOADS[:3]  # web, worker, scheduler; the migrations Job reads neither file
MIGRATIONS = WORKLOADS[3]
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n"


@pytest.fixture(scope="module")
def helm() -> str:
    return helm_binary()


def environment(objects, kind: str, name: str) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container(objects, kind, name)["env"]}


def mounted(objects, kind: str, name: str, volume: str) -> tuple[dict, dict] | None:
    """(the pod's volume, the container's mount) called `volume`, or None."""
    volumes = {v["name"]: v for v in pod(objects, kind, name)["spec"]["volumes"]}
    mounts = {m["name"]: m for m in container(objects, kind, name)["volumeMounts"]}
    if volume not in volumes and volume not in mounts:
        return None
    return volumes[volume], mounts[volume]


def test_every_process_runs_the_image_the_values_name(helm):
    tagged = render(helm, "image.tag=2024.6.1")
    default = render(helm)
    for kind, name in WORKLOADS:
        assert container(tagged, kind, name)["image"] == f"{IMAGE}:2024.6.1"
        assert container(default, kind, name)["image"] == f"{IMAGE}:0.1.0"  # appVersion


def test_the_crew_file_is_a_config_map_mounted_where_repocrew_crew_file_points(helm, tmp_path):
    crew_toml = tmp_path / "crew.toml"
    crew_toml.write_text(roster_text("default"))
    objects = render(helm, files={"crewFile": crew_toml})
    data = objects[("ConfigMap", "crew-repocrew-crew")]["data"]
    assert data == {"crew.toml": crew_toml.read_text()}
    assert parse_crew(data["crew.toml"], source="configmap").roles  # the roster survives intact
    for kind, name in PROCESSES:
        found = mounted(objects, kind, name, "crew")
        assert found is not None, name
        volume, mount = found
        assert volume["configMap"]["name"] == "crew-repocrew-crew" and mount["readOnly"] is True
        path = Path(environment(objects, kind, name)["REPOCREW_CREW_FILE"])
        assert path.parent == Path(mount["mountPath"]) and path.name in data
        assert pod(objects, kind, name)["metadata"]["annotations"]["checksum/crew"]
    assert mounted(objects, *MIGRATIONS, "crew") is None


def test_without_a_crew_file_the_packaged_roster_is_used(helm):
    objects = render(helm)
    assert not [key for key in objects if key[0] == "ConfigMap"]
    for kind, name in WORKLOADS:
        assert mounted(objects, kind, name, "crew") is None
        assert "REPOCREW_CREW_FILE" not in environment(objects, kind, name)


def test_a_changed_crew_file_rolls_the_pods(helm, tmp_path):
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    first.write_text(roster_text("default"))
    second.write_text(roster_text("product-team"))
    before = render(helm, files={"crewFile": first})
    after = render(helm, files={"crewFile": second})
    for kind, name in PROCESSES:
        old = pod(before, kind, name)["metadata"]["annotations"]["checksum/crew"]
        assert old != pod(after, kind, name)["metadata"]["annotations"]["checksum/crew"]


def test_the_private_key_is_a_secret_mounted_as_a_file(helm, tmp_path):
    key = tmp_path / "repocrew.private-key.pem"
    key.write_text(PEM)
    objects = render(helm, "secrets.REPOCREW_GITHUB_APP_ID=42", files={"githubPrivateKey.pem": key})
    secret = objects[("Secret", "crew-repocrew-github-key")]
    assert {name: base64.b64decode(value).decode() for name, value in secret["data"].items()} == {
        "private-key.pem": PEM
    }
    credentials = objects[("Secret", "crew-repocrew")]["stringData"]
    assert "REPOCREW_GITHUB_PRIVATE_KEY" not in credentials
    assert PEM.strip() not in str(credentials)
    for kind, name in PROCESSES:
        found = mounted(objects, kind, name, "github-key")
        assert found is not None, name
        volume, mount = found
        assert volume["secret"]["secretName"] == "crew-repocrew-github-key"
        assert mount["readOnly"] is True
        assert volume["secret"]["defaultMode"] & 0o007 == 0  # nobody but the pod's user and group
        env = environment(objects, kind, name)
        assert env["REPOCREW_GITHUB_PRIVATE_KEY_PATH"] == f"{mount['mountPath']}/private-key.pem"
        assert "REPOCREW_GITHUB_PRIVATE_KEY" not in env and PEM.strip() not in str(env)
        assert pod(objects, kind, name)["metadata"]["annotations"]["checksum/github-key"]
    assert mounted(objects, *MIGRATIONS, "github-key") is None


def test_the_private_key_may_come_from_a_secret_the_operator_manages(helm):
    objects = render(
        helm, "githubPrivateKey.existingSecret=app-key", "githubPrivateKey.secretKey=key.pem"
    )
    assert ("Secret", "crew-repocrew-github-key") not in objects
    for kind, name in PROCESSES:
        found = mounted(objects, kind, name, "github-key")
        assert found is not None, name
        volume, mount = found
        assert volume["secret"]["secretName"] == "app-key"
        assert volume["secret"]["items"] == [{"key": "key.pem", "path": "key.pem"}]
        path = environment(objects, kind, name)["REPOCREW_GITHUB_PRIVATE_KEY_PATH"]
        assert path == f"{mount['mountPath']}/key.pem"


def test_without_a_key_nothing_is_mounted(helm):
    objects = render(helm)
    for kind, name in WORKLOADS:
        assert mounted(objects, kind, name, "github-key") is None
        assert "REPOCREW_GITHUB_PRIVATE_KEY_PATH" not in environment(objects, kind, name)
