"""`repocrew eval`: the crew on a manifest of real bug-fix tasks, one line per task and a last
line of figures (`--json` for the detail)."""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from repocrew.setup import setup_logging

DEFAULT_MANIFEST = Path("../shared/realrepos/manifest.toml")


def evaluate(
    manifest: Annotated[
        Path, typer.Option(help="The task manifest (the format of shared/realrepos).")
    ] = DEFAULT_MANIFEST,
    oracle: Annotated[
        bool, typer.Option("--oracle", help="Script the model from the fixed release.")
    ] = False,
    live_model: Annotated[
        bool, typer.Option("--live-model", help="Use the configured model (ANTHROPIC_API_KEY).")
    ] = False,
    detect: Annotated[
        bool, typer.Option("--detect", help="Leave the manifest's commands out: detection alone.")
    ] = False,
    task: Annotated[
        list[str] | None, typer.Option(help="Only these tasks (by name; repeatable).")
    ] = None,
    cache: Annotated[Path, typer.Option(help="Where the downloaded releases are kept.")] = Path(
        ".repocrew/eval-cache"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print the detail as JSON.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each run.")] = 900.0,
) -> None:
    """Run the crew on real bug-fix tasks and score it as SWE-bench does."""
    from repocrew.evaluation.run import Options, summary_line
    from repocrew.evaluation.run import as_json as detail
    from repocrew.evaluation.run import evaluate as evaluate_task

    settings = setup_logging()
    logging.getLogger().setLevel(logging.WARNING)
    if oracle == live_model:
        typer.echo("choose one: --oracle or --live-model", err=True)
        raise typer.Exit(2)
    if live_model and settings.anthropic_api_key is None:
        typer.echo("--live-model needs ANTHROPIC_API_KEY", err=True)
        raise typer.Exit(2)
    chosen = _chosen(manifest, task or [])
    results = []
    with tempfile.TemporaryDirectory(prefix="repocrew-eval-") as directory:
        options = Options(
            cache=cache.resolve(),
            root=Path(directory),
            oracle=oracle,
            detect=detect,
            live_model=settings if live_model else None,
            timeout=timeout,
        )
        for one in chosen:
            results.append(evaluate_task(one, options))
            if not as_json:
                typer.echo(results[-1].line())
    if as_json:
        typer.echo(json.dumps([detail(r) for r in results], indent=2))
    typer.echo(summary_line(results))


def _chosen(manifest: Path, names: list[str]) -> list:
    """The manifest's tasks, or those named; a clear error and exit 2 otherwise."""
    from repocrew.evaluation.manifest import ManifestError, load_manifest

    try:
        tasks = load_manifest(manifest)
    except ManifestError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from error
    unknown = sorted(set(names) - {t.name for t in tasks})
    if unknown:
        typer.echo(f"no such task in {manifest}: {', '.join(unknown)}", err=True)
        raise typer.Exit(2)
    return [t for t in tasks if not names or t.name in names]
