"""Starting and steering a run on GitHub, shared by every trigger: who may steer, the
repository's crew, the run a request names, and the reply that says what happened.

Only people with write access steer the crew; bots never do (a name ending in `[bot]` earns no
trust, and the crew's own posts must never trigger it: no loops). Every decision is made from
the payload and the collaborator-permission API, then the run is queued for the worker.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.ports.forge import RepoGateway
from bot.roster.loader import REPO_CONFIG, ConfigError, apply_repo_overrides, load_crew
from bot.roster.models import Crew
from bot.roster.repo_configs import RepoConfigs
from bot.runs.lifecycle import crew_snapshot, queue_run
from bot.runs.progress import active_run, create_run, create_run_if_idle, finish_step
from bot.runs.states import RunState
from bot.services import Services
from bot.settings import Settings
from bot.store.engine import Engine
from bot.store.runs import outputs
from bot.triggers.commands import WRITE_PERMISSIONS

log = logging.getLogger(__name__)


def gateway_of(services: Services, payload: dict[str, Any]) -> RepoGateway:
    """The gateway of the payload's repository, through the App's installation there."""
    return services.repo_gateway(payload["installation"]["id"], payload["repository"]["full_name"])


def is_bot(user: dict[str, Any] | None) -> bool:
    """Bots never steer the crew, whatever their name or permission (no loops, no relays)."""
    user = user or {}
    return user.get("type") != "User" or str(user.get("login", "")).endswith("[bot]")


def may_steer(gateway: RepoGateway, user: dict[str, Any]) -> bool:
    return gateway.permission_of(user["login"]) in WRITE_PERMISSIONS


def crew_for(
    settings: Settings,
    gateway: RepoGateway,
    *,
    configs: RepoConfigs | None = None,
    payload: dict[str, Any] | None = None,
) -> Crew:
    """The operator's crew with the repository's `.repocrew.toml` merged in; with `configs`,
    the file is read once per push to the payload's repository."""
    crew = load_crew(settings.crew_file)
    if configs is None or payload is None:
        text = gateway.read_text(REPO_CONFIG)
    else:
        repository = payload.get("repository") or {}
        read = lambda: gateway.read_text(REPO_CONFIG)  # noqa: E731
        text = configs.text(str(repository.get("full_name")), repository.get("pushed_at"), read)
    return apply_repo_overrides(crew, text, source=REPO_CONFIG) if text else crew


def crew_or_reply(settings: Settings, gateway: RepoGateway, number: int) -> Crew | None:
    """The crew for this repository, or None after telling the issue its config is invalid."""
    try:
        return crew_for(settings, gateway)
    except ConfigError as error:
        reply_invalid_config(gateway, number, error)
        return None


def reply_invalid_config(gateway: RepoGateway, number: int, error: ConfigError) -> None:
    gateway.create_comment(
        number,
        f"The crew did not start: `{REPO_CONFIG}` is invalid.\n\n```\n{error}\n```",
        role="lead",
    )


def trigger_label(settings: Settings, gateway: RepoGateway) -> str:
    """The repository's trigger label; the operator's while the repo's config is broken."""
    try:
        return crew_for(settings, gateway).trigger_label
    except ConfigError:
        return load_crew(settings.crew_file).trigger_label


def reply(gateway: RepoGateway, payload: dict[str, Any], body: str) -> None:
    """Answer the comment once: a job done again (its worker died after posting) finds its
    earlier answer by a hidden marker naming the comment, and posts nothing (a marker counts
    only in the crew's own comments)."""
    number = payload["issue"]["number"]
    asked = (payload.get("comment") or {}).get("id")
    if asked is not None:
        marker = f"<!-- repocrew:reply-to={asked} -->"
        posted = gateway.list_comments(number)
        if any(marker in c.body and gateway.is_own(c.author) for c in posted):
            return
        body = f"{body}\n\n{marker}"
    gateway.create_comment(number, body, role="lead")


def run_here(engine: Engine, payload: dict[str, Any]):
    """The active run of the payload's issue or pull request, if any."""
    issue = payload["issue"]
    repo = payload["repository"]["full_name"]
    if "pull_request" in issue:
        return active_run(engine, repo, pr=issue["number"])
    return active_run(engine, repo, issue=issue["number"])


def requester(user: dict[str, Any]) -> str:
    """The GitHub user as a commit trailer names them (their noreply address)."""
    login = user["login"]
    return f"{login} <{user.get('id', 0)}+{login}@users.noreply.github.com>"


@dataclass(frozen=True)
class RunRequest:
    """What starting a run on GitHub needs, whether a webhook or a Slack command asked."""

    repo: str
    installation_id: int
    number: int
    title: str
    body: str
    requested_by: str
    clone_url: str = ""
    is_pull: bool = False
    branch: str = ""


def start_run(
    services: Services,
    gateway: RepoGateway,
    request: RunRequest,
    *,
    mode: str = "full",
    crew: Crew | None = None,
    if_idle: bool = False,
) -> int | None:
    """Start a run on an issue (or, for review mode, a pull request); None if refused.

    `crew`: the configuration when the caller has already read it (the repository's
    `.repocrew.toml` is read from GitHub once per event). `if_idle`: None, starting nothing,
    when a run on the issue has not ended (a label and an assignment start one run together).
    """
    if crew is None:
        crew = crew_or_reply(services.settings, gateway, request.number)
        if crew is None:
            return None
    run_id = (create_run_if_idle if if_idle else create_run)(
        services.engine,
        repo=request.repo,
        clone_url=request.clone_url,
        installation_id=request.installation_id,
        issue_number=None if request.is_pull else request.number,
        pr_number=request.number if request.is_pull else None,
        title=request.title,
        task=request.body,
        requested_by=request.requested_by,
        forge="github",
        config=crew_snapshot(crew),
        mode=mode,
        branch=request.branch,
    )
    if run_id is None:
        log.info("%s#%s already has a run: nothing started", request.repo, request.number)
        return None
    queue_run(services.engine, run_id)
    log.info("run %s queued for %s#%s (%s)", run_id, request.repo, request.number, mode)
    return run_id


def start_github_run(
    services: Services,
    gateway: RepoGateway,
    payload: dict[str, Any],
    *,
    mode: str = "full",
    crew: Crew | None = None,
    if_idle: bool = False,
) -> int | None:
    """Start a run on the payload's issue (or, for review mode, pull request); None if refused
    (or, `if_idle`, when a run there has not ended)."""
    issue = payload.get("issue") or payload.get("pull_request") or {}
    repository = payload["repository"]
    request = RunRequest(
        repo=repository["full_name"],
        installation_id=payload["installation"]["id"],
        number=issue["number"],
        title=issue.get("title", ""),
        body=issue.get("body") or "",
        requested_by=requester(payload["sender"]),
        clone_url=repository.get("clone_url", ""),
        is_pull="pull_request" in issue or "pull_request" in payload,
        branch=(payload.get("pull_request") or {}).get("head", {}).get("ref", ""),
    )
    return start_run(services, gateway, request, mode=mode, crew=crew, if_idle=if_idle)


def request_changes(engine: Engine, run: Any, *, key: str, feedback: dict[str, Any]) -> bool:
    """A human's feedback sends a waiting run back to the coder; False when nothing changed.

    `key` names the feedback (a review id, a Slack view id), so a redelivery records it once.
    """
    if key in outputs(engine, run.id) or run.state != RunState.AWAITING_HUMAN:
        return False  # a redelivery, or the crew is still working: the next round will see it
    finish_step(
        engine,
        run_id=run.id,
        expected=RunState.AWAITING_HUMAN,
        target=RunState.FIXING,
        step=key,
        role="human",
        content=feedback,
        reason=f"changes requested by {feedback['reviewer']}",
        fix_rounds=0,
    )
    queue_run(engine, run.id)
    return True
