"""The crew's commands: a roster to edit, a run on a local repository, its replay, the
collaboration metrics, the demo on the emulators and the emulators themselves."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from bot.settings import Settings, load_settings
from repocrew.setup import Host, Port, setup_logging

EMULATORS = {
    "github": "emulators.github",
    "slack": "emulators.slack",
    "anthropic": "emulators.anthropic",
}


def emulate(
    name: Annotated[str, typer.Argument(help="github, slack or anthropic")],
    host: Host = "127.0.0.1",
    port: Port = 9000,
) -> None:
    """Serve a local emulator of GitHub, Slack or the Anthropic API (for rehearsals and tests)."""
    import importlib

    import uvicorn

    if name not in EMULATORS:
        raise typer.BadParameter(f"choose one of {', '.join(EMULATORS)}", param_hint="NAME")
    setup_logging()
    emulator_app = importlib.import_module(EMULATORS[name]).create_app()
    uvicorn.run(emulator_app, host=host, port=port)


def init(
    roster: Annotated[str, typer.Option(help="The roster: default or product-team.")] = "default",
    path: Annotated[
        Path | None, typer.Option(help="Where to write it (default: REPOCREW_CREW_FILE).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a crew roster file (crew.toml) to edit: the default crew or the product team."""
    from bot.roster.loader import ROSTERS, parse_crew, roster_text

    if roster not in ROSTERS:
        typer.echo(f"unknown roster {roster!r}; choose one of: {', '.join(ROSTERS)}", err=True)
        raise typer.Exit(2)
    target = path or load_settings().crew_file
    if target.exists() and not force:
        typer.echo(f"{target} already exists; pass --force to overwrite it", err=True)
        raise typer.Exit(1)
    text = roster_text(roster)
    target.write_text(text, encoding="utf-8")
    roles = ", ".join(parse_crew(text, source=str(target)).roles)
    typer.echo(f"wrote {target}: the {roster} roster ({roles}); edit it to change the crew")


def _store(settings: Settings):
    from bot.store.engine import make_engine
    from bot.store.migrate import upgrade

    engine = make_engine(settings.database_url)
    upgrade(engine)
    return engine


def run_local(
    repo: Annotated[str, typer.Argument(help="Path or URL of a git repository.")],
    task: Annotated[str, typer.Option(help="What the crew should do.")],
    title: Annotated[str, typer.Option(help="A one-line title (default: the task's).")] = "",
) -> None:
    """Run the crew on a local git repository (posts go to a local file, not GitHub)."""
    from bot.roster.loader import load_crew
    from bot.runs.driver import drive
    from bot.runs.lifecycle import check_local_repository, start_local_run
    from bot.runs.progress import fail_run
    from bot.runs.states import TERMINAL, RunState
    from bot.store.runs import get_run
    from bot.wiring import services_for

    settings = setup_logging()
    if settings.anthropic_api_key is None:
        typer.echo("missing ANTHROPIC_API_KEY: the agents need a model to run", err=True)
        raise typer.Exit(2)
    crew = load_crew(settings.crew_file)  # a ConfigError is told in one line at the edge
    check_local_repository(repo)
    engine = _store(settings)
    run_id = start_local_run(engine, crew=crew, repo=repo, task=task, title=title)
    services = services_for(engine, settings, run_id)
    try:
        state = drive(services, run_id)
    except Exception as error:
        # Nothing will retry a run driven in the foreground: end it with the reason, as the
        # worker does after its last attempt, rather than leave it in a working state.
        reason = services.scanner.redact(f"{type(error).__name__}: {error}")
        fail_run(engine, run_id, reason=f"failed: {reason}")
        raise
    typer.echo(f"run {run_id}: {state} (posts in {services.forge.path})")  # type: ignore[attr-defined]
    if state in TERMINAL and state is not RunState.DONE:
        reason = get_run(engine, run_id).reason
        typer.echo(f"repocrew run: run {run_id} ended {state}: {reason}", err=True)
        raise typer.Exit(1)


def replay(run_id: Annotated[int, typer.Argument(help="The finished run to replay.")]) -> None:
    """Re-run a finished run from its stored transcript, offline, and compare the outcome."""
    from bot.operator.replay import replay_run

    settings = setup_logging()
    result = replay_run(_store(settings), settings, run_id)  # no such run: LookupError
    if result.prompts_changed:
        typer.echo(f"repocrew replay: run {run_id} cannot be replayed: {result.reason}", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"run {run_id} ended {result.original_state}; its replay (run {result.replay_run}) "
        f"ended {result.replay_state}" + (f": {result.reason}" if result.reason else "")
    )
    raise typer.Exit(0 if result.same_outcome else 1)


def metrics(
    days: Annotated[int, typer.Option(min=1, help="How many days back from now.")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
) -> None:
    """How the crew worked together lately: PRs, reviews, blockers, waits, cost, hand-offs."""
    from datetime import timedelta

    from bot.metrics.collaboration import collaboration_metrics
    from bot.metrics.render import render_metrics
    from bot.store.models import utcnow

    settings = setup_logging()
    end = utcnow()
    found = collaboration_metrics(_store(settings), start=end - timedelta(days=days), end=end)
    typer.echo(found.to_json() if as_json else render_metrics(found)[0])


def demo(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
    live_model: Annotated[
        bool, typer.Option("--live-model", help="Use the real model (needs ANTHROPIC_API_KEY).")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the run.")] = 240.0,
    keep: Annotated[
        Path | None,
        typer.Option(help="Keep the store (and the repository) in this folder to explore."),
    ] = None,
    pull_request: Annotated[
        bool,
        typer.Option("--pull-request", help="Instead: the crew reviewing a person's pull request."),
    ] = False,
    sprint: Annotated[
        bool, typer.Option("--sprint", help="Instead: a small sprint with the product team.")
    ] = False,
) -> None:
    """A whole team run with no accounts: GitHub, Slack and the model emulated on loopback."""
    if pull_request:
        play_pull_request_demo(as_json=as_json, timeout=min(timeout, 120.0))
        return
    if sprint:
        play_sprint_demo(as_json=as_json, timeout=max(timeout, 300.0))
        return
    play_demo(as_json=as_json, live_model=live_model, timeout=timeout, keep=keep)


def play_pull_request_demo(*, as_json: bool, timeout: float) -> None:
    """Automatic and incremental reviews and a thread conversation on a person's pull request;
    exits non-zero unless every review ended done and no finding was posted twice."""
    import json

    from repocrew.demo_pull_request import run_pull_request_demo

    setup_logging()
    logging.getLogger().setLevel(logging.WARNING)  # the demo tells its own story
    say = (lambda _line: None) if as_json else typer.echo
    summary = run_pull_request_demo(timeout=timeout, say=say)
    if as_json:
        typer.echo(json.dumps(summary.to_json(), indent=2))
    else:
        typer.echo(
            f"\nPR #{summary.pr}: {summary.reviews} reviews ({summary.incremental_reviews} "
            f"incremental), {summary.inline_comments} inline comments, {summary.checklist_items} "
            f"checklist items, {summary.resolved_findings} findings resolved, "
            f"{summary.repeated_findings} repeated, {summary.thread_replies} thread replies; "
            f"cost ${summary.review_cost_usd:.4f}"
        )
    ended_well = all(run.endswith(":done") for run in summary.runs or ["none"])
    raise typer.Exit(0 if ended_well and summary.repeated_findings == 0 else 1)


def play_sprint_demo(*, as_json: bool, timeout: float) -> None:
    """A sprint from plan to review; exits non-zero unless every task was delivered."""
    import json

    from repocrew.demo_sprint import run_sprint_demo

    setup_logging()
    logging.getLogger().setLevel(logging.WARNING)  # the demo tells its own story
    summary = run_sprint_demo(timeout=timeout, say=(lambda _line: None) if as_json else typer.echo)
    if as_json:
        typer.echo(json.dumps(summary.to_json(), indent=2))
    else:
        typer.echo(
            f"\nsprint {summary.sprint_state}: {summary.sprint_tasks} tasks, "
            f"{summary.dependency_edges} dependencies, at most {summary.max_parallel_runs} runs "
            f"at once, {summary.prs} pull requests ({summary.prs_merged} merged), "
            f"{summary.questions_asked} questions ({summary.questions_answered} answered), "
            f"{summary.standup_posts} standup posts, review posted: {summary.retro_posted}"
        )
    delivered = all(state == "delivered" for state in summary.tasks.values())
    raise typer.Exit(0 if summary.tasks and delivered else 1)


def play_demo(
    *,
    as_json: bool = False,
    live_model: bool = False,
    timeout: float = 240.0,
    keep: Path | None = None,
    serve_at: tuple[str, int] | None = None,
) -> None:
    """The demo; with `serve_at` (host, port), its dashboard stays up there until Ctrl-C.
    Exits non-zero only when the crew did not bring the run to a human."""
    import json

    from rich.console import Console

    from bot.sandbox import sandbox_status
    from repocrew.demo import run_demo
    from repocrew.demo_serve import serve_until_stopped, show_story, store_lines

    settings = setup_logging()
    logging.getLogger().setLevel(logging.WARNING)  # the demo tells its own story
    if live_model and settings.anthropic_api_key is None:
        typer.echo("--live-model needs ANTHROPIC_API_KEY", err=True)
        raise typer.Exit(2)
    sandbox = sandbox_status(settings.sandbox_bwrap)
    if not sandbox.available:  # one line, before the run: what is missing and how to get it
        typer.echo(f"no sandbox: {sandbox.reason}; the tester will not run the tests", err=True)
    say = (lambda _line: None) if as_json else typer.echo
    host, port = serve_at or ("127.0.0.1", None)

    def show(_world, summary) -> None:
        if not as_json:
            show_story(summary, Console(highlight=False))
            typer.echo(
                f"\nPR #{summary.pr}: {summary.commits} commits, {summary.review_comments} "
                f"inline review comments, {summary.checklist_items} checklist items, tests "
                f"{summary.check_conclusion}; votes {summary.votes}; run {summary.run_state}"
            )
            typer.echo(f"\nSlack ({summary.slack_posts} posts):\n{summary.transcript}")
            if keep is not None:
                typer.echo("\n".join(store_lines(keep.resolve(), summary.run_id)))
        if serve_at is not None:
            serve_until_stopped(typer.echo)(_world, summary)

    summary = run_demo(
        live_model=settings if live_model else None,
        timeout=timeout,
        say=say,
        keep=keep,
        host=host,
        port=port,
        bwrap=settings.sandbox_bwrap,
        then=show,
    )
    if as_json:
        typer.echo(json.dumps(summary.to_json(), indent=2))
    raise typer.Exit(0 if summary.run_state == "awaiting_human" else 1)
