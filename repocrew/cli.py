"""The `repocrew` command line: one table of commands, each defined in the module of its kind
(processes, the crew's work, the operator's tools)."""

from __future__ import annotations

from typing import Annotated

import typer

from repocrew import cli_crew, cli_eval, cli_operator, cli_processes
from repocrew.cli_operator import manifest_text
from repocrew.errors import OneLineErrors
from repocrew.setup import report_missing_credentials

__all__ = ["app", "main", "manifest_text", "report_missing_credentials"]

app = typer.Typer(
    cls=OneLineErrors,
    help="repocrew: a crew of AI agents for your repository.",
    no_args_is_help=True,
)
db_app = typer.Typer(help="The store: migrations.", no_args_is_help=True)
setup_app = typer.Typer(
    help="Create the GitHub App, or print the GitHub or Slack app manifest.", no_args_is_help=True
)

COMMANDS = {
    "serve": cli_processes.serve,
    "web": cli_processes.web,
    "worker": cli_processes.worker,
    "scheduler": cli_processes.scheduler,
    "emulate": cli_crew.emulate,
    "init": cli_crew.init,
    "run": cli_crew.run_local,
    "replay": cli_crew.replay,
    "metrics": cli_crew.metrics,
    "demo": cli_crew.demo,
    "eval": cli_eval.evaluate,
    "start": cli_processes.start,
    "doctor": cli_operator.doctor,
}


def _print_version(wanted: bool) -> None:
    if wanted:
        from importlib.metadata import version  # costs a tenth of a second on every command

        typer.echo(f"repocrew {version('repocrew')}")
        raise typer.Exit()


@app.callback()
def options(
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", envvar="REPOCREW_DEBUG", help="Show the traceback when a command fails."
        ),
    ] = False,
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """repocrew: a crew of AI agents for your repository."""


for name, command in COMMANDS.items():
    app.command(name)(command)
app.add_typer(db_app, name="db")
db_app.command("upgrade")(cli_operator.db_upgrade)
app.add_typer(setup_app, name="setup")
setup_app.command("github")(cli_operator.setup_github)
setup_app.command("slack")(cli_operator.setup_slack)


def main() -> None:
    app()
