"""The operator's commands: `doctor`, `setup github|slack` (the App manifests) and `db upgrade`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from bot.operator.manifests import manifest_text
from repocrew.setup import setup_logging


def doctor() -> None:
    """Check the store, credentials, GitHub, Slack, the model, the sandbox and the crew file."""
    from pydantic import ValidationError

    from bot.operator.doctor import Check, failed, render, run_checks
    from repocrew.settings_errors import setting_problems

    try:
        settings = setup_logging()
    except ValidationError as error:  # a row each; the other checks need valid settings
        rows = [Check(p.variable, False, p.wrong, p.fix) for p in setting_problems(error)]
        typer.echo(render(rows))
        typer.echo("fix these settings first: the other checks need them")
        raise typer.Exit(1) from None
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.CRITICAL)  # the table reports every failure, once
    try:
        checks = run_checks(settings)
    finally:
        root.setLevel(level)
    typer.echo(render(checks))
    raise typer.Exit(1 if failed(checks) else 0)


PublicUrl = Annotated[str, typer.Option("--url", help="The public https URL repocrew serves at.")]


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


def setup_slack(url: PublicUrl) -> None:
    """The Slack app manifest: paste it at api.slack.com/apps → Create New App → From a manifest."""
    _print_manifest("slack", url)


def db_upgrade() -> None:
    """Apply every pending migration."""
    from bot.store.engine import make_engine
    from bot.store.migrate import current_revision, upgrade

    settings = setup_logging()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    typer.echo(f"store at revision {current_revision(engine)}")
