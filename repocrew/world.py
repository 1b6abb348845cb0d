"""An emulated world for a whole team run with no accounts: GitHub, Slack and the Anthropic API
on loopback, repocrew's real web app and worker beside them, one repository of a human's
(octocat, admin). `repocrew demo` and `repocrew eval` run the crew here; so would a user's
repository, through the same webhooks.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.settings import Settings
from bot.store.engine import Engine
from bot.store.run_queries import latest_run
from emulators.anthropic import AnthropicEmulator
from emulators.anthropic import create_app as anthropic_app
from emulators.anthropic.script import Script
from emulators.github import GitHubEmulator
from emulators.github import create_app as github_app
from emulators.server import running
from emulators.slack import DEFAULT_TOKEN, Policy, SlackEmulator
from emulators.slack import create_app as slack_app
from repocrew.demo_human import Human
from repocrew.serve import serve_app

ENDED = frozenset({"awaiting_human", "done", "failed", "stopped", "budget_exhausted"})
HUMAN_TOKEN = "ghp_octocat"


@dataclass
class World:
    hub: GitHubEmulator
    chat: SlackEmulator
    model: AnthropicEmulator
    engine: Engine
    settings: Settings
    hub_url: str
    repo: str
    crew_url: str = ""
    app: Any = None  # repocrew's web app (its dashboard's login links: `app.state`)

    def human(self) -> Human:
        return Human(self.hub_url, HUMAN_TOKEN, self.repo)

    def wait_for_run(self, timeout: float, say=lambda _line: None) -> Any:
        """The newest run once it waits for a human or ends (None if none started in time)."""
        deadline, seen, run = time.monotonic() + timeout, "", None
        while time.monotonic() < deadline:
            run = latest_run(self.engine)
            if run is not None and run.state != seen:
                seen = run.state
                say(f"run {run.id}: {run.state}")
            if run is not None and run.state in ENDED:
                return run
            time.sleep(0.2)
        return run


@contextmanager
def emulated_world(
    *,
    repo: str,
    files: Mapping[str, str | bytes],
    script: Script,
    root: Path,
    live_model: Settings | None = None,
    slack_pace: int = 20,
    host: str = "127.0.0.1",
    port: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    first_commit_date: str | None = None,
) -> Iterator[World]:
    """The world, with `repo` holding `files` on main; the model answers from `script` (or,
    with `live_model`, the real API with that key). repocrew listens on `host`:`port` (a free
    port if None), with `overrides` on its settings; `first_commit_date` dates `files`' commit."""
    root.mkdir(parents=True, exist_ok=True)
    hub = GitHubEmulator.with_defaults()
    hub.create_repo(
        repo,
        files=dict(files),
        collaborators={"octocat": "admin"},
        first_commit_date=first_commit_date,
    )
    model = AnthropicEmulator(script)
    chat = SlackEmulator(
        rate_limits={"chat.postMessage": Policy(slack_pace, burst=slack_pace, per="channel")}
    )
    secret = secrets.token_hex(16)
    with (
        running(github_app(hub)) as hub_url,
        running(anthropic_app(model)) as model_url,
        running(slack_app(chat)) as slack_url,
    ):
        hub.base_url = hub_url  # clone and push over smart HTTP, as with GitHub
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=f"sqlite:///{root / 'repocrew.db'}",
            work_dir=root / "work",
            github_webhook_secret=secret,
            github_app_id=1,
            github_private_key=hub.apps[1].private_key_pem.decode(),
            github_api_url=hub_url,
            slack_bot_token=DEFAULT_TOKEN,
            slack_api_url=f"{slack_url}/api/",
            anthropic_api_key=(
                live_model.anthropic_api_key if live_model else "sk-ant-emulated-0000"
            ),
            anthropic_base_url=live_model.anthropic_base_url if live_model else model_url,
            worker_poll_seconds=0.05,
            job_backoff_seconds=0.5,
            **(overrides or {}),
        )
        app = serve_app(settings, scheduler=False)
        with running(app, host=host, port=port) as crew_url:
            hub.webhooks.configure(f"{_reachable(crew_url)}/github/webhook", secret)
            engine = app.state.engine
            yield World(hub, chat, model, engine, settings, hub_url, repo, crew_url, app)


def _reachable(url: str) -> str:
    """A URL to connect to: a server on every interface is reached on loopback."""
    return url.replace("://0.0.0.0:", "://127.0.0.1:").replace("://[::]:", "://127.0.0.1:")
