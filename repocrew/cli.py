"""The `repocrew` command line."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from bot.settings import Settings, load_settings

app = typer.Typer(help="repocrew: a crew of AI agents for your repository.", no_args_is_help=True)
db_app = typer.Typer(help="The store: migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
setup_app = typer.Typer(
    help="Create the GitHub App, or print the GitHub or Slack app manifest.", no_args_is_help=True
)
app.add_typer(setup_app, name="setup")

log = logging.getLogger("repocrew")

Host = Annotated[str, typer.Option(help="Interface to listen on.")]
Port = Annotated[int, typer.Option(help="TCP port to listen on.")]


def _setup(settings: Settings | None = None) -> Settings:
    from bot.observability.logs import configure_logging
    from bot.security.secrets import scanner_for_settings

    settings = settings or load_settings()
    try:
        scanner, unreadable = scanner_for_settings(settings), None
    except OSError as error:  # `repocrew doctor` says how to fix it; keep the rest redacted
        settings_without_key = settings.model_copy(update={"github_private_key_path": None})
        scanner, unreadable = scanner_for_settings(settings_without_key), error
    configure_logging(level=settings.log_level, log_format=settings.log_format, scanner=scanner)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if unreadable is not None:
        log.warning(
            "the GitHub App key is unreadable (%s); logs redact keys by shape only", unreadable
        )
    return settings


def report_missing_credentials(settings: Settings) -> list[str]:
    """Lines naming each missing credential and what stays off without it."""
    lines = [
        f"missing {credential.name}: {credential.enables}"
        for credential in settings.missing_credentials()
    ]
    for line in lines:
        log.warning(line)
    return lines


def _run_web(settings: Settings, host: str, port: int, *, background: bool) -> None:
    import uvicorn

    from webhooks.app import create_app

    report_missing_credentials(settings)
    application = create_app(settings, with_worker=background, with_scheduler=background)
    # log_config=None: uvicorn's lines (the access log too) go through our JSON handler.
    uvicorn.run(
        application, host=host, port=port, log_level=settings.log_level.lower(), log_config=None
    )


@app.command()
def serve(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Web app, one worker and the scheduler in one process (the embedded SQLite set-up)."""
    _run_web(_setup(), host, port, background=True)


@app.command()
def web(host: Host = "0.0.0.0", port: Port = 8000) -> None:
    """Only the web app (scale-out: run several behind a load balancer, on PostgreSQL)."""
    _run_web(_setup(), host, port, background=False)


def _stop_on_signals(stop) -> None:
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop())


@app.command()
def worker(
    metrics_port: Annotated[
        int,
        typer.Option(
            help="Serve this worker's call counters at :N/metrics for Prometheus (0: off)."
        ),
    ] = 0,
) -> None:
    """One worker process: claims and runs jobs until SIGTERM."""
    from bot.store.engine import make_engine
    from bot.store.migrate import upgrade
    from jobs.worker import Worker

    settings = _setup()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    job_worker = Worker(engine, settings)
    _stop_on_signals(job_worker.stop)
    if metrics_port:
        from prometheus_client import start_http_server

        from bot.observability.calls import PROCESS

        # The calls this process makes; the store's families are the web app's /metrics.
        start_http_server(metrics_port, registry=PROCESS)
    job_worker.run()


@app.command()
def scheduler() -> None:
    """The scheduler process (run exactly one at scale-out)."""
    from bot.store.engine import make_engine
    from bot.store.migrate import upgrade
    from jobs.scheduler import build_scheduler

    settings = _setup()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    stopping = threading.Event()
    _stop_on_signals(stopping.set)
    timed = build_scheduler(engine)
    timed.start()
    log.info("scheduler started")
    stopping.wait()
    timed.shutdown(wait=False)


EMULATORS = {
    "github": "emulators.github",
    "slack": "emulators.slack",
    "anthropic": "emulators.anthropic",
}


@app.command()
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
    _setup()
    emulator_app = importlib.import_module(EMULATORS[name]).create_app()
    uvicorn.run(emulator_app, host=host, port=port)


@app.command()
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


@app.command("run")
def run_local(
    repo: Annotated[str, typer.Argument(help="Path or URL of a git repository.")],
    task: Annotated[str, typer.Option(help="What the crew should do.")],
    title: Annotated[str, typer.Option(help="A one-line title (default: the task's).")] = "",
) -> None:
    """Run the crew on a local git repository (posts go to a local file, not GitHub)."""
    from bot.roster.loader import ConfigError, load_crew
    from bot.runs.driver import drive
    from bot.runs.lifecycle import services_for, start_local_run

    settings = _setup()
    if settings.anthropic_api_key is None:
        typer.echo("missing ANTHROPIC_API_KEY: the agents need a model to run", err=True)
        raise typer.Exit(2)
    try:
        crew = load_crew(settings.crew_file)
    except ConfigError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from error
    engine = _store(settings)
    run_id = start_local_run(engine, crew=crew, repo=repo, task=task, title=title)
    services = services_for(engine, settings, run_id)
    state = drive(services, run_id)
    typer.echo(f"run {run_id}: {state} (posts in {services.forge.path})")  # type: ignore[attr-defined]


@app.command()
def replay(run_id: Annotated[int, typer.Argument(help="The finished run to replay.")]) -> None:
    """Re-run a finished run from its stored transcript, offline, and compare the outcome."""
    from bot.runs.replay import replay_run

    settings = _setup()
    result = replay_run(_store(settings), settings, run_id)
    typer.echo(
        f"run {run_id} ended {result.original_state}; its replay (run {result.replay_run}) "
        f"ended {result.replay_state}" + (f": {result.reason}" if result.reason else "")
    )
    raise typer.Exit(0 if result.same_outcome else 1)


@app.command()
def metrics(
    days: Annotated[int, typer.Option(min=1, help="How many days back from now.")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
) -> None:
    """How the crew worked together lately: PRs, reviews, blockers, waits, cost, hand-offs."""
    from datetime import timedelta

    from bot.metrics.collaboration import collaboration_metrics
    from bot.metrics.render import render_metrics
    from bot.store.models import utcnow

    settings = _setup()
    end = utcnow()
    found = collaboration_metrics(_store(settings), start=end - timedelta(days=days), end=end)
    typer.echo(found.to_json() if as_json else render_metrics(found)[0])


@app.command()
def demo(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
    live_model: Annotated[
        bool, typer.Option("--live-model", help="Use the real model (needs ANTHROPIC_API_KEY).")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the run.")] = 240.0,
) -> None:
    """A whole team run with no accounts: GitHub, Slack and the model emulated on loopback."""
    import json

    from repocrew.demo import run_demo

    settings = _setup()
    logging.getLogger().setLevel(logging.WARNING)  # the demo tells its own story
    if live_model and settings.anthropic_api_key is None:
        typer.echo("--live-model needs ANTHROPIC_API_KEY", err=True)
        raise typer.Exit(2)
    say = (lambda _line: None) if as_json else typer.echo
    summary = run_demo(live_model=settings if live_model else None, timeout=timeout, say=say)
    if as_json:
        typer.echo(json.dumps(summary.to_json(), indent=2))
    else:
        typer.echo(
            f"\nPR #{summary.pr}: {summary.commits} commits, {summary.review_comments} inline "
            f"review comments, {summary.checklist_items} checklist items, tests "
            f"{summary.check_conclusion}; votes {summary.votes}; run {summary.run_state}"
        )
        typer.echo(f"\nSlack ({summary.slack_posts} posts):\n{summary.transcript}")
    raise typer.Exit(0 if summary.run_state == "awaiting_human" else 1)


@app.command()
def start(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """`repocrew serve` when GitHub credentials are set; otherwise say what is missing and
    show the offline demo."""
    settings = _setup()
    github_ready = settings.github_app_id is not None and settings.github_app_private_key
    if github_ready:
        _run_web(settings, host, port, background=True)
        return
    report_missing_credentials(settings)  # one line each: what is missing, what it enables
    typer.echo(
        "\nrepocrew needs a GitHub App to serve (see README: Set-up). "
        "Meanwhile, here is the crew at work against local emulators:\n"
    )
    demo(as_json=False, live_model=False, timeout=240.0)


@app.command()
def doctor() -> None:
    """Check the store, credentials, GitHub, Slack, the model, the sandbox and the crew file."""
    from bot.operator.doctor import failed, render, run_checks

    settings = _setup()
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.CRITICAL)  # the table reports every failure, once
    try:
        checks = run_checks(settings)
    finally:
        root.setLevel(level)
    typer.echo(render(checks))
    raise typer.Exit(1 if failed(checks) else 0)


MANIFESTS = Path(__file__).resolve().parents[1] / "deploy"
PublicUrl = Annotated[str, typer.Option("--url", help="The public https URL repocrew serves at.")]


def manifest_text(name: str, url: str) -> str:
    """deploy/<name>-app-manifest.yml with its {PUBLIC_URL} placeholders filled in."""
    template = (MANIFESTS / f"{name}-app-manifest.yml").read_text(encoding="utf-8")
    return template.replace("{PUBLIC_URL}", url.rstrip("/"))


def _check_url(url: str) -> None:
    if not url.startswith(("https://", "http://")):
        raise typer.BadParameter(
            "give the full URL, e.g. https://crew.example.com", param_hint="--url"
        )


def _print_manifest(name: str, url: str) -> None:
    _check_url(url)
    try:
        typer.echo(manifest_text(name, url), nl=False)
    except FileNotFoundError as error:
        typer.echo(f"{error.filename} is missing: it ships in the repository's deploy/", err=True)
        raise typer.Exit(1) from error


@setup_app.command("github")
def setup_github(
    url: PublicUrl,
    print_only: Annotated[
        bool, typer.Option("--print", help="Only print the manifest (create the App by hand).")
    ] = False,
    org: Annotated[str | None, typer.Option(help="Create the App for this organization.")] = None,
    port: Annotated[int, typer.Option(help="Loopback port of the local page (0: any).")] = 0,
    env_file: Annotated[Path, typer.Option(help="Where the credentials go.")] = Path(".env"),
    github_url: Annotated[str, typer.Option(help="GitHub's web URL.")] = "https://github.com",
    api_url: Annotated[
        str | None, typer.Option(help="GitHub's API URL (default: the one of --github-url).")
    ] = None,
    name: Annotated[str, typer.Option(help="The App's name (unique on GitHub).")] = "repocrew",
    timeout: Annotated[float, typer.Option(help="Seconds to wait for GitHub.")] = 900.0,
) -> None:
    """Create the GitHub App from its manifest and save its credentials to the env file
    (`--print`: only print the manifest)."""
    if print_only:
        _print_manifest("github", url)
        return
    from bot.operator.setup_github import Flow, SetupError, api_url_for, run_flow

    _check_url(url)
    flow = Flow(url, github_url, api_url or api_url_for(github_url), env_file, name, org)
    try:
        created = run_flow(flow, port=port, say=typer.echo, timeout=timeout)
    except SetupError as error:
        typer.echo(f"setup failed: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo(
        f"App {created.slug} (id {created.app_id}) created; its id, webhook secret and key "
        f"path are in {created.env_file} (mode 0600), the key in {created.key_file}.\n"
        f"Next: install it at {flow.install_url(created)}, then run `repocrew doctor`."
    )


@setup_app.command("slack")
def setup_slack(url: PublicUrl) -> None:
    """The Slack app manifest: paste it at api.slack.com/apps → Create New App → From a manifest."""
    _print_manifest("slack", url)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    from bot.store.engine import make_engine
    from bot.store.migrate import current_revision, upgrade

    settings = _setup()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    typer.echo(f"store at revision {current_revision(engine)}")


def main() -> None:
    app()
