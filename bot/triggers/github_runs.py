"""GitHub events that start and steer team runs: the trigger label, `/crew` comments, human
reviews on a crew pull request, and uninstalls.

Only people with write access steer the crew; bots never do (a name ending in `[bot]` earns no
trust, and the crew's own posts must never trigger it: no loops). Every decision is made from
the payload and the collaborator-permission API, then the run is queued for the worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Engine, select

from bot.roster.loader import REPO_CONFIG, ConfigError, apply_repo_overrides, load_crew
from bot.roster.models import Crew
from bot.runs.lifecycle import crew_snapshot, queue_run
from bot.runs.states import TERMINAL, RunState
from bot.settings import Settings
from bot.store.models import Run
from bot.store.runs import create_run, end_run, finish_step, outputs, save_output
from bot.triggers.commands import (
    WRITE_PERMISSIONS,
    Command,
    help_text,
    not_allowed_reply,
    parse_command,
    unknown_reply,
)
from bot.triggers.github_deliveries import router

log = logging.getLogger(__name__)


class RepoGateway(Protocol):
    """What the triggers need from GitHub for one repository."""

    def permission_of(self, login: str) -> str: ...

    def read_text(self, path: str) -> str | None: ...

    def list_comments(self, thread: int) -> list[Any]: ...

    def create_comment(self, thread: int, body: str, *, role: str) -> Any: ...


# Builds the gateway for (settings, installation id, "owner/name"); bot.github provides it.
GatewayFactory = Callable[[Settings, int, str], RepoGateway]
gateway_factory: GatewayFactory | None = None


def repo_gateway(settings: Settings, installation_id: int, repo: str) -> RepoGateway:
    """The gateway of `owner/name` through the App's installation there."""
    if gateway_factory is None:
        from bot.github.gateway import gateway_for

        return gateway_for(settings, installation_id, repo)
    return gateway_factory(settings, installation_id, repo)


def _gateway(settings: Settings, payload: dict[str, Any]) -> RepoGateway:
    return repo_gateway(settings, payload["installation"]["id"], payload["repository"]["full_name"])


def is_bot(user: dict[str, Any] | None) -> bool:
    """Bots never steer the crew, whatever their name or permission (no loops, no relays)."""
    user = user or {}
    return user.get("type") != "User" or str(user.get("login", "")).endswith("[bot]")


def _may_steer(gateway: RepoGateway, user: dict[str, Any]) -> bool:
    return gateway.permission_of(user["login"]) in WRITE_PERMISSIONS


def _crew_for(settings: Settings, gateway: RepoGateway) -> Crew:
    crew = load_crew(settings.crew_file)
    text = gateway.read_text(REPO_CONFIG)
    return apply_repo_overrides(crew, text, source=REPO_CONFIG) if text else crew


def _crew_or_reply(settings: Settings, gateway: RepoGateway, number: int) -> Crew | None:
    """The crew for this repository, or None after telling the issue its config is invalid."""
    try:
        return _crew_for(settings, gateway)
    except ConfigError as error:
        _reply_invalid_config(gateway, number, error)
        return None


def _reply_invalid_config(gateway: RepoGateway, number: int, error: ConfigError) -> None:
    gateway.create_comment(
        number,
        f"The crew did not start: `{REPO_CONFIG}` is invalid.\n\n```\n{error}\n```",
        role="lead",
    )


def active_run(engine: Engine, repo: str, *, issue: int | None = None, pr: int | None = None):
    table = Run.__table__  # type: ignore[attr-defined]
    query = select(table).where(table.c.repo == repo, table.c.state.notin_(list(TERMINAL)))
    if issue is not None:
        query = query.where(table.c.issue_number == issue)
    if pr is not None:
        query = query.where(table.c.pr_number == pr)
    with engine.connect() as connection:
        return connection.execute(query.order_by(table.c.id.desc())).first()


def _requester(user: dict[str, Any]) -> str:
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
    engine: Engine,
    settings: Settings,
    gateway: RepoGateway,
    request: RunRequest,
    *,
    mode: str = "full",
    crew: Crew | None = None,
) -> int | None:
    """Start a run on an issue (or, for review mode, a pull request); None if refused.

    `crew`: the configuration when the caller has already read it (the repository's
    `.repocrew.toml` is read from GitHub once per event).
    """
    if crew is None:
        crew = _crew_or_reply(settings, gateway, request.number)
        if crew is None:
            return None
    run_id = create_run(
        engine,
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
    queue_run(engine, run_id, max_attempts=settings.job_max_attempts)
    log.info("run %s queued for %s#%s (%s)", run_id, request.repo, request.number, mode)
    return run_id


def start_github_run(
    engine: Engine,
    settings: Settings,
    gateway: RepoGateway,
    payload: dict[str, Any],
    *,
    mode: str = "full",
    crew: Crew | None = None,
) -> int | None:
    """Start a run on the payload's issue (or, for review mode, pull request); None if refused."""
    issue = payload.get("issue") or payload.get("pull_request") or {}
    repository = payload["repository"]
    request = RunRequest(
        repo=repository["full_name"],
        installation_id=payload["installation"]["id"],
        number=issue["number"],
        title=issue.get("title", ""),
        body=issue.get("body") or "",
        requested_by=_requester(payload["sender"]),
        clone_url=repository.get("clone_url", ""),
        is_pull="pull_request" in issue or "pull_request" in payload,
        branch=(payload.get("pull_request") or {}).get("head", {}).get("ref", ""),
    )
    return start_run(engine, settings, gateway, request, mode=mode, crew=crew)


@router.register("issues", action="labeled")
def issue_labelled(payload: dict[str, Any], engine: Engine, settings: Settings) -> None:
    sender = payload.get("sender")
    if is_bot(sender):
        return
    gateway = _gateway(settings, payload)
    if gateway is None:
        return
    issue = payload["issue"]
    label = (payload.get("label") or {}).get("name")
    try:
        crew = _crew_for(settings, gateway)
    except ConfigError as error:
        # The repo's own trigger label is unknown while its config is broken: answer the
        # operator's label only, so every other label event stays quiet.
        if label == load_crew(settings.crew_file).trigger_label:
            _reply_invalid_config(gateway, issue["number"], error)
        return
    if label != crew.trigger_label:
        return
    if not _may_steer(gateway, sender):
        gateway.create_comment(issue["number"], not_allowed_reply(sender["login"]), role="lead")
        return
    if active_run(engine, payload["repository"]["full_name"], issue=issue["number"]):
        return  # a redelivery, or a second label event: the run is already on it
    start_github_run(engine, settings, gateway, payload, crew=crew)


@router.register("issue_comment", action="created")
def comment_created(payload: dict[str, Any], engine: Engine, settings: Settings) -> None:
    command = parse_command((payload.get("comment") or {}).get("body"))
    sender = payload.get("sender")
    if command is None or is_bot(sender):
        return
    gateway = _gateway(settings, payload)
    if gateway is None:
        return
    if not _may_steer(gateway, sender):
        _reply(gateway, payload, not_allowed_reply(sender["login"]))
        return
    COMMAND_HANDLERS[command.name](engine, settings, gateway, payload, command)


def _reply(gateway: RepoGateway, payload: dict[str, Any], body: str) -> None:
    """Answer the comment once: a job done again (its worker died after posting) finds its
    earlier answer by a hidden marker naming the comment, and posts nothing."""
    number = payload["issue"]["number"]
    asked = (payload.get("comment") or {}).get("id")
    if asked is not None:
        marker = f"<!-- repocrew:reply-to={asked} -->"
        if any(marker in comment.body for comment in gateway.list_comments(number)):
            return
        body = f"{body}\n\n{marker}"
    gateway.create_comment(number, body, role="lead")


def _run_here(engine: Engine, payload: dict[str, Any]):
    issue = payload["issue"]
    repo = payload["repository"]["full_name"]
    if "pull_request" in issue:
        return active_run(engine, repo, pr=issue["number"])
    return active_run(engine, repo, issue=issue["number"])


def _go(engine, settings, gateway, payload, _command) -> None:
    run = _run_here(engine, payload)
    if run is None:
        start_github_run(engine, settings, gateway, payload)
    elif run.state == RunState.AWAITING_HUMAN and run.mode == "plan":
        finish_step(
            engine,
            run_id=run.id,
            expected=RunState.AWAITING_HUMAN,
            target=RunState.CODING,
            step="",
            role="",
            content=None,
            reason=f"/crew go by {payload['sender']['login']}",
            mode="full",
        )
        queue_run(engine, run.id)
    else:
        _reply(gateway, payload, f"The crew is already on it: run {run.id} is `{run.state}`.")


def _plan(engine, settings, gateway, payload, _command) -> None:
    run = _run_here(engine, payload)
    if run is not None:
        _reply(gateway, payload, f"The crew is already on it: run {run.id} is `{run.state}`.")
        return
    start_github_run(engine, settings, gateway, payload, mode="plan")


def _review(engine, settings, gateway, payload, _command) -> None:
    if "pull_request" not in payload["issue"]:
        _reply(gateway, payload, "`/crew review` works on pull requests.")
        return
    # issue_comment payloads carry no head branch: the review step reads it from the forge.
    start_github_run(engine, settings, gateway, payload, mode="review")


def _retry(engine, settings, gateway, payload, _command) -> None:
    run = _run_here(engine, payload)
    if run is not None:
        _reply(gateway, payload, f"Run {run.id} is still `{run.state}`; `/crew stop` it first.")
        return
    start_github_run(engine, settings, gateway, payload)


def _stop(engine, _settings, gateway, payload, _command) -> None:
    run = _run_here(engine, payload)
    if run is None:
        _reply(gateway, payload, "There is no run to stop here.")
        return
    stop_run(engine, run.id, reason=f"stopped by {payload['sender']['login']}")
    _reply(gateway, payload, f"Run {run.id} stopped.")


def _status(engine, _settings, gateway, payload, _command) -> None:
    run = _run_here(engine, payload)
    if run is None:
        _reply(gateway, payload, "No run is active here.")
        return
    done = ", ".join(outputs(engine, run.id)) or "nothing yet"
    _reply(gateway, payload, f"Run {run.id} is `{run.state}`. Finished steps: {done}.")


def _trigger_label(settings: Settings, gateway: RepoGateway) -> str:
    """The repository's trigger label; the operator's while the repo's config is broken."""
    try:
        return _crew_for(settings, gateway).trigger_label
    except ConfigError:
        return load_crew(settings.crew_file).trigger_label


def _help(_engine, settings, gateway, payload, _command) -> None:
    _reply(gateway, payload, help_text(_trigger_label(settings, gateway)))


def _unknown(_engine, settings, gateway, payload, command: Command) -> None:
    _reply(gateway, payload, unknown_reply(command.word, _trigger_label(settings, gateway)))


COMMAND_HANDLERS = {
    "go": _go,
    "plan": _plan,
    "review": _review,
    "retry": _retry,
    "stop": _stop,
    "status": _status,
    "help": _help,
    "unknown": _unknown,
}


def stop_run(engine: Engine, run_id: int, *, reason: str) -> None:
    """Stop a run whatever it is doing; a step in flight finds the run stopped and gives up."""
    end_run(engine, run_id, target=RunState.STOPPED, reason=reason)


@router.register("pull_request_review", action="submitted")
def review_submitted(payload: dict[str, Any], engine: Engine, settings: Settings) -> None:
    """A human's `changes_requested` on a crew pull request sends the coder back to it."""
    review = payload.get("review") or {}
    sender = payload.get("sender")
    if review.get("state") != "changes_requested" or is_bot(sender):
        return
    pull = payload["pull_request"]
    run = active_run(engine, payload["repository"]["full_name"], pr=pull["number"])
    if run is None or run.mode == "review":
        return
    gateway = _gateway(settings, payload)
    if gateway is None or not _may_steer(gateway, sender):
        return
    feedback = {"reviewer": sender["login"], "body": review.get("body") or ""}
    request_changes(engine, run, key=f"human-{review['id']}", feedback=feedback)


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


@router.register("installation", action="deleted")
def installation_removed(payload: dict[str, Any], engine: Engine, _settings: Settings) -> None:
    table = Run.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        ids = connection.execute(
            select(table.c.id).where(
                table.c.installation_id == payload["installation"]["id"],
                table.c.state.notin_(list(TERMINAL)),
            )
        ).scalars()
        ids = list(ids)
    for run_id in ids:
        stop_run(engine, run_id, reason="the GitHub App was uninstalled")


OWN_CHECKS = frozenset({"repocrew / tests"})


@router.register("check_run", action="completed")
def check_completed(payload: dict[str, Any], engine: Engine, _settings: Settings) -> None:
    """CI results (e.g. GitHub Actions) on a crew pull request are evidence for the tester
    and the voters, beside the crew's own sandbox run."""
    check = payload.get("check_run") or {}
    if check.get("name") in OWN_CHECKS:
        return
    repo = (payload.get("repository") or {}).get("full_name")
    for pull in check.get("pull_requests") or []:
        run = active_run(engine, repo, pr=pull.get("number"))
        if run is None:
            continue
        save_output(
            engine,
            run_id=run.id,
            step=f"ci-{check['id']}",
            role="ci",
            content={
                "name": check.get("name", ""),
                "conclusion": check.get("conclusion"),
                "head_sha": check.get("head_sha", ""),
                "url": check.get("html_url", ""),
            },
        )
