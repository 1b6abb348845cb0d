"""`repocrew setup github`: the App manifest flow against the GitHub emulator, driven like a
browser would, leaves a `.env` that `repocrew doctor` and `repocrew serve` authenticate with."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import github
import httpx
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from typer.testing import CliRunner

from bot.github.access import READ
from bot.github.auth import InstallationAuth
from bot.operator.doctor import check_github
from bot.operator.setup_github import Flow, SetupError, merge_env, run_flow
from bot.settings import Settings, load_settings
from emulators.github import GitHubEmulator, create_app
from emulators.server import free_port, running
from repocrew.cli import app as cli
from repocrew.cli import manifest_text
from webhooks.app import create_app as create_web_app

REPOCREW = str(Path(sys.executable).with_name("repocrew"))
PUBLIC = "https://crew.example.com"
OLD_KEY = '"-----BEGIN RSA PRIVATE KEY-----\nold\n-----END RSA PRIVATE KEY-----"'
EXISTING = f"# my settings\nREPOCREW_LOG_LEVEL=WARNING\nREPOCREW_GITHUB_PRIVATE_KEY={OLD_KEY}\n"


class Form(HTMLParser):
    """The page's form: its action and its inputs, as a browser reads them."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.action, self.method, self.fields, self.scripts = "", "", {}, 0
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.action, self.method = attributes["action"], attributes["method"]
        elif tag == "input":
            self.fields[attributes["name"]] = attributes["value"]
        elif tag == "script":
            self.scripts += 1


def clean_environment() -> dict[str, str]:
    """This shell's environment without any repocrew setting: only the .env may speak."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("REPOCREW_") and key != "ANTHROPIC_API_KEY"
    }


def wait_for(url: str, runner, seconds: float = 60) -> httpx.Response:
    """GET `url` once it answers; `runner` (a process or thread) still serving it."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            ended = runner.poll() is not None if hasattr(runner, "poll") else not runner.is_alive()
            if ended or time.monotonic() > deadline:
                pytest.fail(f"{url} never answered")
            time.sleep(0.1)


@pytest.fixture
def hub(tmp_path):
    emulator = GitHubEmulator(tmp_path / "hub")
    emulator.add_user("octocat", token="ghp_octocat")
    emulator.add_user("octo-org", type="Organization")
    emulator.create_repo("octo-org/hello", files={"README.md": "hi\n"})
    with running(create_app(emulator)) as url:
        yield emulator, url


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    for key in list(os.environ):
        if key.startswith("REPOCREW_") or key == "ANTHROPIC_API_KEY":
            monkeypatch.delenv(key)
    directory = tmp_path / "site"
    directory.mkdir()
    return directory


def test_the_manifest_flow_writes_an_env_that_doctor_and_serve_authenticate_with(
    hub, workdir, monkeypatch
):
    emulator, hub_url = hub
    env_file = workdir / ".env"
    env_file.write_text(EXISTING)
    env_file.chmod(0o644)
    port = free_port()
    local = f"http://127.0.0.1:{port}"
    setup = subprocess.Popen(
        [REPOCREW, "setup", "github", "--url", PUBLIC, "--port", str(port),
         "--github-url", hub_url, "--api-url", hub_url, "--timeout", "60"],
        cwd=workdir, env=clean_environment(), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        # the browser opens the local page: a form that posts the manifest to GitHub
        form = Form(wait_for(f"{local}/", setup).text)
        assert form.method == "post" and form.scripts == 1
        assert form.action.startswith(f"{hub_url}/settings/apps/new?state=")
        sent = json.loads(form.fields["manifest"])
        shipped = yaml.safe_load(manifest_text("github", PUBLIC))
        assert sent["hook_attributes"]["url"] == f"{PUBLIC}/github/webhook"
        assert sent["redirect_url"] == f"{local}/callback"
        assert sent["default_permissions"] == shipped["default_permissions"]
        assert sent["default_events"] == shipped["default_events"]
        # a callback that is not this flow's is refused, and the flow goes on
        forged = httpx.get(f"{local}/callback", params={"code": "abc", "state": "guess"})
        assert forged.status_code == 400 and setup.poll() is None
        # GitHub makes the App and sends the browser back with the code
        created = httpx.post(form.action, data=form.fields)
        assert created.status_code == 302, created.text
        assert created.headers["location"].startswith(f"{local}/callback?code=")
        done = httpx.get(created.headers["location"])
        out, err = setup.communicate(timeout=30)
    finally:
        if setup.poll() is None:
            setup.kill()
    assert setup.returncode == 0, err
    (app,) = emulator.apps.values()
    assert app.manifest is not None and app.manifest.used
    secrets_made = [app.manifest.webhook_secret, app.manifest.client_secret, "PRIVATE KEY"]
    for shown in (done.text, out, err):
        assert not [secret for secret in secrets_made if secret and secret in shown]
    install = f"{hub_url}/apps/repocrew/installations/new"
    assert done.status_code == 200 and install in done.text and install in out

    # the env file: only its owner may read it; old lines kept, the inline key gone
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    text = env_file.read_text()
    assert text.startswith("# my settings\nREPOCREW_LOG_LEVEL=WARNING\n")
    assert "REPOCREW_GITHUB_PRIVATE_KEY=" not in text and "old" not in text
    settings = Settings(_env_file=env_file)  # type: ignore[call-arg]
    assert settings.github_app_id == app.id and settings.github_api_url == hub_url
    assert settings.github_webhook_secret is not None
    assert settings.github_webhook_secret.get_secret_value() == app.manifest.webhook_secret
    key_file = settings.github_private_key_path
    assert key_file is not None and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert public == app.public_key_pem

    # the App authenticates; installed nowhere yet, doctor says so
    nowhere = check_github(settings)
    assert nowhere.ok is False and "installed nowhere" in nowhere.detail
    auth = InstallationAuth(app.id, settings.github_app_private_key or "", base_url=hub_url)
    with pytest.raises(github.UnknownObjectException):
        auth.installation_for_repo("octo-org/hello")

    # the web app `repocrew serve` runs, configured by nothing but ./.env, accepts the App's
    # signed webhooks
    monkeypatch.chdir(workdir)
    with running(create_web_app(load_settings())) as served:
        target = f"{served}/github/webhook"
        emulator.webhooks.configure(target, app.manifest.webhook_secret, app_id=app.id)
        emulator.install(app, "octo-org")  # what the person does at installations/new
        emulator.webhooks.wait_idle()
    (delivery,) = emulator.webhooks.deliveries
    assert delivery.event == "installation" and delivery.status == 202

    # installed: an installation token for the repository, and doctor is content
    token = auth.token_for(auth.installation_for_repo("octo-org/hello"), "octo-org/hello", READ)
    assert token.startswith("ghs_") and auth.bot_login == "repocrew[bot]"
    doctor = CliRunner().invoke(cli, ["doctor"])
    (line,) = [line for line in doctor.output.splitlines() if "GitHub App" in line]
    assert line.startswith("ok") and f"App {app.id}: 1 installation" in line, doctor.output


def test_a_refused_code_fails_the_flow_and_writes_nothing(hub, workdir):
    emulator, hub_url = hub
    flow = Flow(PUBLIC, hub_url, hub_url, workdir / "deploy.env", "repocrew")
    port, said, failures = free_port(), [], []

    def serve_flow() -> None:
        try:
            run_flow(flow, port=port, say=said.append, timeout=30)
        except SetupError as error:
            failures.append(str(error))

    thread = threading.Thread(target=serve_flow)
    thread.start()
    try:
        form = Form(wait_for(f"http://127.0.0.1:{port}/", thread).text)
        state = form.action.split("state=")[1]
        page = httpx.get(
            f"http://127.0.0.1:{port}/callback", params={"code": "0" * 20, "state": state}
        )
    finally:
        thread.join(30)
    assert page.status_code == 502 and "older than an hour" in page.text
    assert failures and "older than an hour" in failures[0]
    assert said == [
        f"Open http://127.0.0.1:{port}/ in a browser signed in to {hub_url} to create the App."
    ]
    assert not (workdir / "deploy.env").exists() and emulator.apps == {}


def test_print_keeps_printing_the_manifest():
    result = CliRunner().invoke(cli, ["setup", "github", "--url", PUBLIC, "--print"])
    assert result.exit_code == 0 and yaml.safe_load(result.output)["url"] == PUBLIC


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("", "A=1\nB=two words\n".replace("two words", '"two words"')),
        ("# c\nexport A=0\nC=3", '# c\nA=1\nC=3\nB="two words"\n'),
        ('A="x\ny"\nA=dup\nK="k\n-----\nk"\nC=3\n', 'A=1\nC=3\nB="two words"\n'),
    ],
)
def test_merge_env_sets_keys_in_place_and_keeps_the_rest(before, after):
    assert merge_env(before, {"A": "1", "B": "two words"}, remove=("K",)) == after
