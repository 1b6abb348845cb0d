"""`issue_comment.created`: `/crew` commands on issues and pull requests, by table.

The grammar and help text are in `commands`; each command word has a handler here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.ports.forge import RepoGateway
from bot.runs.lifecycle import queue_run
from bot.runs.progress import finish_step, stop_run
from bot.runs.states import RunState
from bot.services import Services
from bot.store.pull_reviews import forget_reviewed_head
from bot.store.runs import outputs
from bot.triggers.commands import (
    Command,
    help_text,
    not_allowed_reply,
    parse_command,
    unknown_reply,
)
from bot.triggers.github_deliveries import router
from bot.triggers.github_sprints import approve_here, sprint_command
from bot.triggers.starting import (
    gateway_of,
    is_bot,
    may_steer,
    reply,
    run_here,
    start_github_run,
    trigger_label,
)

CommandHandler = Callable[[Services, RepoGateway, dict[str, Any], Command], None]


@router.register("issue_comment", action="created")
def comment_created(payload: dict[str, Any], services: Services) -> None:
    command = parse_command((payload.get("comment") or {}).get("body"))
    sender = payload.get("sender")
    if command is None or is_bot(sender):
        return
    gateway = gateway_of(services, payload)
    if not may_steer(gateway, sender):
        reply(gateway, payload, not_allowed_reply(sender["login"]))
        return
    COMMAND_HANDLERS[command.name](services, gateway, payload, command)


def _go(services: Services, gateway: RepoGateway, payload: dict[str, Any], _command) -> None:
    if approve_here(services, gateway, payload):  # the plan of the sprint tracked here
        return
    run = run_here(services.engine, payload)
    if run is None:
        _start_unless_running(services, gateway, payload, _on_it)
    elif run.state == RunState.AWAITING_HUMAN and run.mode == "plan":
        finish_step(
            services.engine,
            run_id=run.id,
            expected=RunState.AWAITING_HUMAN,
            target=RunState.CODING,
            step="",
            role="",
            content=None,
            reason=f"/crew go by {payload['sender']['login']}",
            mode="full",
        )
        queue_run(services.engine, run.id)
    else:
        reply(gateway, payload, _on_it(run))


def _on_it(run: Any) -> str:
    return f"The crew is already on it: run {run.id} is `{run.state}`."


def _still_running(run: Any) -> str:
    return f"Run {run.id} is still `{run.state}`; `/crew stop` it first."


def _start_unless_running(
    services: Services,
    gateway: RepoGateway,
    payload: dict[str, Any],
    busy: Callable[[Any], str],
    *,
    mode: str = "full",
) -> None:
    """Start a run here unless one is active, or answer `busy(run)`. The look and the insert
    are one store transaction (`insert_run_if_idle`): two commands racing start one run."""
    if start_github_run(services, gateway, payload, mode=mode, if_idle=True) is not None:
        return
    run = run_here(services.engine, payload)
    if run is not None:  # None: refused and told already (an invalid `.repocrew.toml`)
        reply(gateway, payload, busy(run))


def _plan(services: Services, gateway: RepoGateway, payload: dict[str, Any], _command) -> None:
    run = run_here(services.engine, payload)
    if run is not None:
        reply(gateway, payload, _on_it(run))
        return
    _start_unless_running(services, gateway, payload, _on_it, mode="plan")


def _review(
    services: Services, gateway: RepoGateway, payload: dict[str, Any], command: Command
) -> None:
    if "pull_request" not in payload["issue"]:
        reply(gateway, payload, "`/crew review` works on pull requests.")
        return
    if command.argument.split()[:1] == ["full"]:  # the whole pull request, not the new commits
        repo, number = payload["repository"]["full_name"], payload["issue"]["number"]
        forget_reviewed_head(services.engine, repo=repo, pr=number)
    # issue_comment payloads carry no head branch: the review step reads it from the forge.
    start_github_run(services, gateway, payload, mode="review")


def _fix(services: Services, gateway: RepoGateway, payload: dict[str, Any], _command) -> None:
    reply(
        gateway,
        payload,
        "`/crew fix` works as a reply in one of the crew's review threads on its pull request.",
    )


def _retry(services: Services, gateway: RepoGateway, payload: dict[str, Any], _command) -> None:
    run = run_here(services.engine, payload)
    if run is not None:
        reply(gateway, payload, _still_running(run))
        return
    _start_unless_running(services, gateway, payload, _still_running)


def _stop(services: Services, gateway: RepoGateway, payload: dict[str, Any], _command) -> None:
    run = run_here(services.engine, payload)
    if run is None:
        reply(gateway, payload, "There is no run to stop here.")
        return
    stop_run(services.engine, run.id, reason=f"stopped by {payload['sender']['login']}")
    reply(gateway, payload, f"Run {run.id} stopped.")


def _status(services: Services, gateway: RepoGateway, payload: dict[str, Any], _command) -> None:
    run = run_here(services.engine, payload)
    if run is None:
        reply(gateway, payload, "No run is active here.")
        return
    done = ", ".join(outputs(services.engine, run.id)) or "nothing yet"
    reply(gateway, payload, f"Run {run.id} is `{run.state}`. Finished steps: {done}.")


def _help(services: Services, gateway: RepoGateway, payload: dict[str, Any], _command) -> None:
    reply(gateway, payload, help_text(trigger_label(services.settings, gateway)))


def _unknown(
    services: Services, gateway: RepoGateway, payload: dict[str, Any], command: Command
) -> None:
    label = trigger_label(services.settings, gateway)
    reply(gateway, payload, unknown_reply(command.word, label))


COMMAND_HANDLERS: dict[str, CommandHandler] = {
    "go": _go,
    "plan": _plan,
    "review": _review,
    "fix": _fix,
    "sprint": sprint_command,
    "retry": _retry,
    "stop": _stop,
    "status": _status,
    "help": _help,
    "unknown": _unknown,
}
