"""The end-to-end world: GitHub, Slack and the model emulated, repocrew's web app on loopback.

The GitHub emulator holds `octo-org/ages` (the demo's sample project; octocat is admin,
`reader` may only read), serves it over smart HTTP and sends its webhooks to repocrew; the model
answers from the demo's recorded session; Slack posts at a relaxed pace (the outbox's handling
of Slack's real one is tested on its own).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import github
from sqlalchemy import func, select

from bot.github.client import ClientOptions
from bot.settings import Settings
from bot.store.models import Run, RunTransition
from emulators.anthropic import AnthropicEmulator
from emulators.anthropic import create_app as anthropic_app
from emulators.github import GitHubEmulator
from emulators.github import create_app as github_app
from emulators.server import running
from emulators.slack import DEFAULT_SIGNING_SECRET, DEFAULT_TOKEN, Policy, SlackEmulator
from emulators.slack import create_app as slack_app
from repocrew import demo_session
from repocrew.serve import serve_app
from tests.conftest import GITHUB_SECRET, make_settings
from tests.support.identity import CLIENT_ID, CLIENT_SECRET, oauth_app

KEY = "sk-ant-test-emulator-key-0005"
REPO = "octo-org/ages"


@dataclass
class World:
    hub: GitHubEmulator
    model: AnthropicEmulator
    chat: SlackEmulator
    engine: Any
    settings: Settings
    hub_url: str
    human: github.Github  # octocat, the repository's admin
    crew_url: str = ""  # repocrew's web app

    def runs(self) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(Run.__table__.select()).all())

    def transition_count(self) -> int:
        with self.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(RunTransition)).scalar_one()

    def wait_for(self, states: set[str], timeout: float = 120, *, after: int = 0) -> Any:
        """The newest run once it is in one of `states` (webhooks delivered meanwhile).

        `after`: a `transition_count()` taken before the nudge; the run must have moved since,
        so a run still sitting in its old state (a slow worker) is not mistaken for the result.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.hub.webhooks.wait_idle(5)
            # The count first: a state read before it could be the old one, seen just before
            # the nudge moved the run (and counted as moved by the later count).
            moved = self.transition_count() > after
            runs = self.runs()
            if moved and runs and runs[-1].state in states:
                return runs[-1]
            time.sleep(0.2)
        raise AssertionError(f"runs: {[(r.id, r.state, r.reason) for r in self.runs()]}")


@contextmanager
def emulated_world(
    database_url: str,
    work_dir: Path,
    *,
    in_process_worker: bool = True,
    github_options: ClientOptions | None = None,
    crew_file: Path | None = None,
) -> Iterator[World]:
    hub = GitHubEmulator.with_defaults()
    hub.add_user("reader", token="ghp_reader")
    hub.create_repo(
        REPO,
        files=demo_session.sample_files(),
        collaborators={"octocat": "admin", "reader": "read"},
    )
    oauth_app(hub)  # people prove their GitHub accounts with it (`/crew link`, the dashboard)
    model = AnthropicEmulator(demo_session.whole_run_script())
    chat = SlackEmulator(rate_limits={"chat.postMessage": Policy(100, burst=100, per="channel")})
    with (
        running(github_app(hub)) as hub_url,
        running(anthropic_app(model)) as model_url,
        running(slack_app(chat)) as slack_url,
    ):
        hub.base_url = hub_url  # clone and push over smart HTTP, as with GitHub
        settings = make_settings(
            database_url,
            github_app_id=1,
            github_private_key=hub.apps[1].private_key_pem.decode(),
            github_api_url=hub_url,
            anthropic_api_key=KEY,
            anthropic_base_url=model_url,
            work_dir=work_dir,
            worker_poll_seconds=0.05,
            job_backoff_seconds=0.2,
            job_lease_seconds=1,
            slack_bot_token=DEFAULT_TOKEN,
            slack_api_url=f"{slack_url}/api/",
            slack_signing_secret=DEFAULT_SIGNING_SECRET,
            github_web_url=hub_url,
            github_oauth_client_id=CLIENT_ID,
            github_oauth_client_secret=CLIENT_SECRET,
            **({"crew_file": crew_file} if crew_file is not None else {}),
        )
        app = serve_app(
            settings, workers=in_process_worker, scheduler=False, github_options=github_options
        )
        with running(app) as crew_url:
            hub.webhooks.configure(f"{crew_url}/github/webhook", GITHUB_SECRET)
            chat.app_url = crew_url
            human = github.Github(base_url=hub_url, auth=github.Auth.Token("ghp_octocat"))
            yield World(hub, model, chat, app.state.engine, settings, hub_url, human, crew_url)
            human.close()
