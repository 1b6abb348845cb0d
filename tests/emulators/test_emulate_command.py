"""`repocrew emulate NAME --port N`: the real command serves each emulator to its real SDK."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import anthropic
import github
import httpx
import pytest
import slack_sdk
from github import Auth

from emulators.server import free_port

REPOCREW = str(Path(sys.executable).with_name("repocrew"))


@dataclass
class Emulating:
    name: str
    server: subprocess.Popen
    url: str
    log: Path

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                httpx.get(self.url, timeout=1)
                return
            except httpx.TransportError:
                if self.server.poll() is not None or time.monotonic() > deadline:
                    log = self.log.read_text()
                    pytest.fail(f"`repocrew emulate {self.name}` did not answer:\n{log}")
                time.sleep(0.05)


def start(name: str, directory: Path) -> Emulating:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPOCREW_", "ANTHROPIC_"))}
    log = directory / f"{name}.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [REPOCREW, "emulate", name, "--port", str(port)],
            cwd=directory,  # away from any .env of the repository
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Emulating(name, server, f"http://127.0.0.1:{port}", log)


@pytest.fixture(scope="module")
def emulating(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Emulating]]:
    """All three emulators, started side by side (each takes a few seconds to import)."""
    directory = tmp_path_factory.mktemp("emulate")
    running = {name: start(name, directory) for name in CALLS}
    try:
        for emulator in running.values():
            emulator.wait_ready()
        yield running
    finally:
        for emulator in running.values():
            emulator.server.terminate()
        for emulator in running.values():
            emulator.server.wait(10)


def call_github(url: str) -> None:
    gh = github.Github(auth=Auth.Token("ghp_octocat"), base_url=url, retry=None)
    repo = gh.get_repo("octo-org/hello")
    assert repo.get_contents("README.md").decoded_content == b"# hello\n"
    # the standalone server learns its address from the first request and serves git there
    assert repo.clone_url == f"{url}/octo-org/hello.git"
    listed = subprocess.run(
        ["git", "ls-remote", repo.clone_url, "refs/heads/main"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
    )
    assert listed.stdout.split() == [repo.get_branch("main").commit.sha, "refs/heads/main"]


def call_slack(url: str) -> None:
    answer = slack_sdk.WebClient(token="xoxb-emulator", base_url=f"{url}/api/").auth_test()
    assert answer["ok"] is True and answer["user_id"]


def call_anthropic(url: str) -> None:
    # closed, or its pooled connection is a ResourceWarning whenever the GC finds it
    with anthropic.Anthropic(api_key="sk-ant-emulator", base_url=url, max_retries=0) as client:
        message = client.messages.create(
            model="claude-haiku-4-5",
            max_tokens=64,
            messages=[{"role": "user", "content": "Say hello."}],
        )
    assert message.role == "assistant" and message.content[0].type == "text"


CALLS: dict[str, Callable[[str], None]] = {
    "github": call_github,
    "slack": call_slack,
    "anthropic": call_anthropic,
}


@pytest.mark.parametrize("name", list(CALLS))
def test_repocrew_emulate_serves_the_sdk(name: str, emulating: dict[str, Emulating]) -> None:
    CALLS[name](emulating[name].url)
