"""deploy/helm/repocrew renders, with `helm lint` and `helm template`, into the objects repocrew
needs: N web replicas behind a Service (and an optional Ingress), workers, exactly one scheduler,
the credentials Secret, and a migrations Job that runs before every install and upgrade.

helm comes from deploy/helm/fetch-helm.sh (into .cache/tools/helm, through npm); without it
these tests are skipped with the reason. No cluster is used: the rendered objects are checked.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO
from tests.integration.test_deploy import accepts, dockerfile_json, setting_env_names

CHART = REPO / "deploy" / "helm" / "repocrew"
FETCH = REPO / "deploy" / "helm" / "fetch-helm.sh"
HELM = REPO / ".cache" / "tools" / "helm"
DATABASE = "postgresql://repocrew:pw@db:5432/repocrew"
IMAGE = "registry.example.com/team/repocrew"  # the operator's own: no public image exists
DOCKER_UID = 10001  # deploy/Dockerfile: useradd --uid 10001


@pytest.fixture(scope="module")
def helm() -> str:
    return helm_binary()


def helm_binary() -> str:
    """The helm binary, fetched if it is not there yet; the test is skipped without one."""
    if not HELM.exists():
        try:
            fetched = subprocess.run(
                ["sh", str(FETCH), str(HELM)], capture_output=True, text=True, timeout=300
            )
        except subprocess.TimeoutExpired:
            pytest.skip("helm could not be fetched within 5 minutes (npm registry unreachable?)")
        if fetched.returncode != 0:
            pytest.skip(f"no helm binary: {fetched.stderr.strip() or fetched.stdout.strip()}")
    return str(HELM)


def run_helm(helm: str, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([helm, *arguments], capture_output=True, text=True, timeout=60)


def render(
    helm: str, *sets: str, database: bool = True, files: dict[str, Path] | None = None
) -> dict[tuple[str, str], dict[str, Any]]:
    """The chart's objects by (kind, name), rendered for release `crew` (`files`: --set-file)."""
    required = [f"image.repository={IMAGE}", *([f"databaseUrl={DATABASE}"] if database else [])]
    options = [f"--set={value}" for value in [*required, *sets]]
    options += [f"--set-file={key}={path}" for key, path in (files or {}).items()]
    result = run_helm(helm, "template", "crew", str(CHART), *options)
    assert result.returncode == 0, result.stderr
    objects = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in objects}


def pod(objects, kind: str, name: str) -> dict[str, Any]:
    return objects[(kind, name)]["spec"]["template"]


def container(objects, kind: str, name: str) -> dict[str, Any]:
    (only,) = pod(objects, kind, name)["spec"]["containers"]
    return only


WORKLOADS = [
    ("Deployment", "crew-repocrew-web"),
    ("Deployment", "crew-repocrew-worker"),
    ("Deployment", "crew-repocrew-scheduler"),
    ("Job", "crew-repocrew-migrations"),
]


def test_the_chart_lints(helm):
    result = run_helm(
        helm,
        "lint",
        "--strict",
        str(CHART),
        f"--set=databaseUrl={DATABASE},image.repository={IMAGE}",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_default_release_has_every_part(helm):
    objects = render(helm)
    assert set(objects) == {
        *WORKLOADS,
        ("Service", "crew-repocrew"),
        ("Secret", "crew-repocrew"),
    }
    assert objects[("Deployment", "crew-repocrew-web")]["spec"]["replicas"] == 2
    assert objects[("Deployment", "crew-repocrew-worker")]["spec"]["replicas"] == 1


def test_each_process_runs_a_real_repocrew_command(helm):
    objects = render(helm)
    entrypoint = dockerfile_json("ENTRYPOINT")
    commands = {name: container(objects, kind, name)["args"] for kind, name in WORKLOADS}
    assert commands["crew-repocrew-migrations"] == ["db", "upgrade"]
    assert commands["crew-repocrew-worker"] == ["worker"]
    assert commands["crew-repocrew-scheduler"] == ["scheduler"]
    for args in commands.values():
        assert "command" not in args  # the image's ENTRYPOINT (repocrew) runs them
        accepts(args)
    assert entrypoint == ["repocrew"]


def test_the_scheduler_is_one_and_never_two(helm):
    objects = render(helm, "replicas.web=5", "replicas.worker=3", "replicas.scheduler=4")
    scheduler = objects[("Deployment", "crew-repocrew-scheduler")]["spec"]
    assert scheduler["replicas"] == 1 and scheduler["strategy"] == {"type": "Recreate"}
    assert objects[("Deployment", "crew-repocrew-web")]["spec"]["replicas"] == 5
    assert objects[("Deployment", "crew-repocrew-worker")]["spec"]["replicas"] == 3


def test_migrations_run_before_install_and_upgrade_after_their_secret(helm):
    objects = render(helm)
    job = objects[("Job", "crew-repocrew-migrations")]
    hooks = job["metadata"]["annotations"]
    assert set(hooks["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    secret = objects[("Secret", "crew-repocrew")]["metadata"]["annotations"]
    # the Job reads the Secret, so the Secret is a hook of the same phases, made first
    assert secret["helm.sh/hook"] == hooks["helm.sh/hook"]
    assert int(secret["helm.sh/hook-weight"]) < int(hooks["helm.sh/hook-weight"])


def test_the_web_pods_are_probed_and_served(helm):
    objects = render(helm)
    web = container(objects, "Deployment", "crew-repocrew-web")
    (port,) = web["ports"]
    assert web["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port["name"]}
    assert web["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port["name"]}
    assert port["containerPort"] == int(web["args"][web["args"].index("--port") + 1])
    service = objects[("Service", "crew-repocrew")]["spec"]
    assert (
        service["selector"].items()
        <= pod(objects, "Deployment", "crew-repocrew-web")["metadata"]["labels"].items()
    )
    assert service["ports"][0]["targetPort"] == port["name"]


def test_every_pod_runs_as_the_images_non_root_user(helm):
    objects = render(helm)
    for kind, name in WORKLOADS:
        security = pod(objects, kind, name)["spec"]["securityContext"]
        assert security["runAsNonRoot"] is True and security["runAsUser"] == DOCKER_UID, name
        own = container(objects, kind, name)["securityContext"]
        assert own["allowPrivilegeEscalation"] is False and own["capabilities"]["drop"] == ["ALL"]
        assert own["readOnlyRootFilesystem"] is True
        mounts = {mount["mountPath"] for mount in container(objects, kind, name)["volumeMounts"]}
        assert {"/tmp", "/work"} <= mounts, name  # scratch space, and REPOCREW_WORK_DIR's


def test_credentials_come_from_the_secret_and_settings_are_real(helm):
    objects = render(helm, "secrets.ANTHROPIC_API_KEY=sk-ant-x", "config.REPOCREW_LOG_LEVEL=DEBUG")
    secret = objects[("Secret", "crew-repocrew")]
    assert secret["stringData"] == {
        "REPOCREW_DATABASE_URL": DATABASE,
        "ANTHROPIC_API_KEY": "sk-ant-x",
    }
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert {"REPOCREW_DATABASE_URL", *values["secrets"], *values["config"]} <= setting_env_names()
    for kind, name in WORKLOADS:
        spec = container(objects, kind, name)
        assert spec["envFrom"] == [{"secretRef": {"name": "crew-repocrew"}}], name
        env = {item["name"]: item["value"] for item in spec["env"]}
        assert set(env) <= setting_env_names() and env["REPOCREW_LOG_LEVEL"] == "DEBUG"
    checksums = {
        pod(objects, kind, name)["metadata"]["annotations"]["checksum/secret"]
        for kind, name in WORKLOADS[:3]
    }
    assert len(checksums) == 1  # a changed Secret rolls every Deployment


def test_an_existing_secret_replaces_the_charts(helm):
    objects = render(helm, "existingSecret=crew-credentials", database=False)
    assert not [key for key in objects if key[0] == "Secret"]
    for kind, name in WORKLOADS:
        assert container(objects, kind, name)["envFrom"] == [
            {"secretRef": {"name": "crew-credentials"}}
        ]
        assert "annotations" not in pod(objects, kind, name)["metadata"]


def test_the_ingress_routes_the_host_to_the_web_service(helm):
    objects = render(
        helm,
        "ingress.enabled=true",
        "ingress.host=crew.example.org",
        "ingress.className=nginx",
        "ingress.tls.enabled=true",
    )
    ingress = objects[("Ingress", "crew-repocrew")]["spec"]
    (rule,) = ingress["rules"]
    (path,) = rule["http"]["paths"]
    assert rule["host"] == "crew.example.org" and ingress["ingressClassName"] == "nginx"
    assert path["backend"]["service"] == {"name": "crew-repocrew", "port": {"name": "http"}}
    assert ingress["tls"] == [{"hosts": ["crew.example.org"], "secretName": "repocrew-tls"}]
    plain = render(helm, "ingress.enabled=true", "ingress.host=crew.example.org")
    assert "tls" not in plain[("Ingress", "crew-repocrew")]["spec"]


@pytest.mark.parametrize(
    ("sets", "reason"),
    [
        ([f"image.repository={IMAGE}"], "databaseUrl is required"),
        ([f"image.repository={IMAGE}", "databaseUrl=sqlite:///crew.db"], "SQLite cannot be shared"),
        (
            [f"image.repository={IMAGE}", f"databaseUrl={DATABASE}", "replicas.web=0"],
            "replicas.web must be at least 1",
        ),
        ([f"databaseUrl={DATABASE}"], "image.repository is required: build deploy/Dockerfile"),
        (
            [f"image.repository={IMAGE}", f"databaseUrl={DATABASE}"]
            + ["secrets.REPOCREW_GITHUB_PRIVATE_KEY=-----BEGIN"],
            "give the key as a file instead: --set-file githubPrivateKey.pem=",
        ),
        (
            [f"image.repository={IMAGE}", f"databaseUrl={DATABASE}"]
            + ["githubPrivateKey.pem=x", "githubPrivateKey.existingSecret=k"],
            "set pem or existingSecret, not both",
        ),
    ],
)
def test_a_release_that_cannot_work_is_refused_with_the_reason(helm, sets, reason):
    result = run_helm(helm, "template", "crew", str(CHART), *[f"--set={s}" for s in sets])
    assert result.returncode != 0 and reason in result.stderr


def test_fetch_helm_is_a_no_op_when_helm_is_there(helm):
    result = subprocess.run(["sh", str(FETCH), helm], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and result.stdout == ""
