"""The one place that knows every adapter: it builds the `Services` handlers and jobs get, and
each run's `StepServices`, from the settings.

Clients are made once per process and shared (GitHub tokens are reused across jobs, the Slack
poster learns a token's scopes once); a run's forge is the one its row names: GitHub through
the App's installation, or a file on disk for a local run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import replace
from functools import cached_property

from bot.environments.build import Environments, default_environments
from bot.github.client import ClientOptions, GitHubApps
from bot.github.gateway import forge_for, gateway_for, installation_of
from bot.github.oauth import GitHubOAuth
from bot.llm.client import ModelClient
from bot.llm.loop import ModelPort
from bot.local_forge import LocalForge
from bot.ports.forge import Forge
from bot.roster.models import Crew
from bot.runs.lifecycle import default_branch
from bot.runs.links import github_web_url
from bot.runs.outgoing import allowed_hosts, safe_forge
from bot.runs.step_services import StepServices
from bot.runs.workspaces import workspaces_root
from bot.security.secrets import scanner_for_settings
from bot.services import Services
from bot.settings import Settings
from bot.slack.poster import SlackPoster, make_poster
from bot.sprints.stacking import StackedForge, stacked_base
from bot.store.engine import Engine, make_engine
from bot.store.models import Run
from bot.store.runs import get_run


class Wiring:
    """The adapters of one process, each built on first use."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine | None = None,
        *,
        github_options: ClientOptions | None = None,
        model: ModelPort | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine or make_engine(
            settings.database_url, threads=settings.worker_concurrency
        )
        self.github_options = github_options
        self._model = model
        self.forges: dict[str, Callable[[Run], Forge]] = {
            "local": lambda run: local_forge_for(run, settings),
            "github": self.github_forge_for,
        }

    @cached_property
    def apps(self) -> GitHubApps:
        spacing = self.settings.github_seconds_between_writes or None
        options = self.github_options or ClientOptions(seconds_between_writes=spacing)
        return GitHubApps.from_settings(self.settings, options=options)

    @cached_property
    def model(self) -> ModelPort | None:
        if self._model is not None:
            return self._model
        if self.settings.anthropic_api_key is None:
            return None
        settings = self.settings
        return ModelClient(
            api_key=settings.anthropic_api_key.get_secret_value(),
            base_url=settings.anthropic_base_url,
            attempt_timeout=settings.model_timeout_s,
            deadline=settings.model_deadline_s,
            stream_from_max_tokens=settings.model_stream_from_tokens,
        )

    @cached_property
    def environments(self) -> Environments:
        settings = self.settings
        return default_environments(
            settings.work_dir / "environments",
            allow=settings.registries,
            max_bytes=settings.env_cache_max_mb * 1024**2,
            max_age_seconds=settings.env_cache_max_age_days * 86400,
            bwrap=settings.sandbox_bwrap,
        )

    @cached_property
    def identity(self) -> GitHubOAuth | None:
        settings = self.settings
        app_set = settings.github_app_id is not None and settings.github_app_private_key
        return GitHubOAuth.from_settings(settings, self.apps if app_set else None)

    @cached_property
    def poster(self) -> SlackPoster | None:
        return make_poster(self.settings) if self.settings.slack_bot_token is not None else None

    def slack_replies(self) -> SlackPoster:
        if self.poster is None:
            return make_poster(self.settings)  # says which setting is missing
        return self.poster

    def repo_gateway(self, installation_id: int, repo: str):
        hosts = allowed_hosts(self.settings, on_github=True)
        return safe_forge(gateway_for(self.apps, installation_id, repo), hosts)

    def installation_of(self, repo: str) -> int | None:
        return installation_of(self.apps, repo)

    def github_forge_for(self, run: Run) -> Forge:
        crew = Crew.model_validate(json.loads(run.config))
        if run.installation_id is None:
            raise LookupError(f"run {run.id} on GitHub has no installation")
        return forge_for(self.apps, run.installation_id, run.repo, crew.roles.values())

    def step_services(
        self, run_id: int, *, model: ModelPort | None = None, forge: Forge | None = None
    ) -> StepServices:
        """What the steps of run `run_id` need, from the run's own row."""
        run = get_run(self.engine, run_id)
        if forge is None:
            factory = self.forges.get(run.forge)
            if factory is None:
                raise LookupError(f"run {run_id} is on forge {run.forge!r}, not set up here")
            forge = factory(run)
        base = stacked_base(self.engine, run_id)
        if base is not None:  # a sprint task building on a task the vote delivered
            forge = StackedForge(forge, base)
        hosts = allowed_hosts(self.settings, on_github=run.forge == "github")
        return StepServices(
            engine=self.engine,
            crew=Crew.model_validate(json.loads(run.config)),
            forge=safe_forge(forge, hosts),
            model=model if model is not None else self.model,
            scanner=scanner_for_settings(self.settings),
            work_root=workspaces_root(self.settings.work_dir),
            environments=self.environments,
            repo_map_chars=self.settings.repo_map_chars,
            bwrap=self.settings.sandbox_bwrap,
            web_url=github_web_url(self.settings),
        )

    def services(self) -> Services:
        github = (self.repo_gateway, self.installation_of)  # in `Services`' order
        slack = (self.slack_replies, lambda: self.poster)
        services = Services(self.engine, self.settings, *github, self.step_services, *slack)
        return replace(
            services, close=self.close, identity=lambda: self.identity, model=lambda: self.model
        )

    def close(self) -> None:
        """Close the clients this process made (their connections would otherwise linger)."""
        built = self.__dict__  # cached_property keeps what was built there
        if built.get("apps") is not None:
            built["apps"].close()
        model = built.get("model")
        if model is not None and model is not self._model and hasattr(model, "close"):
            model.close()


def build_services(settings: Settings, engine: Engine | None = None, **options) -> Services:
    """The services of a process (see `Wiring` for the options)."""
    return Wiring(settings, engine, **options).services()


def services_for(
    engine: Engine,
    settings: Settings,
    run_id: int,
    *,
    model: ModelPort | None = None,
    forge: Forge | None = None,
) -> StepServices:
    """One run's step services, for a caller without a process's `Wiring` (a local run)."""
    return Wiring(settings, engine).step_services(run_id, model=model, forge=forge)


def local_forge_for(run: Run, settings: Settings) -> LocalForge:
    """A local run's posts: a JSON file per repository under the work directory."""
    slug = hashlib.sha1(run.repo.encode()).hexdigest()[:12]
    return LocalForge(
        settings.work_dir / "local-forge" / f"{slug}.json",
        clone_url=run.clone_url,
        default_branch=default_branch(run.clone_url),
    )
