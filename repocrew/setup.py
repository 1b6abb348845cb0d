"""What every command does first: read the settings and set up logging (redacted), and the
option types the commands share."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from bot.observability.logs import configure_logging
from bot.security.secrets import scanner_for_settings
from bot.settings import Settings, load_settings

log = logging.getLogger("repocrew")

Host = Annotated[str, typer.Option(help="Interface to listen on.")]
Port = Annotated[int, typer.Option(help="TCP port to listen on.")]


def setup_logging(settings: Settings | None = None) -> Settings:
    """The settings, with logging configured to redact every secret they hold."""
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


def ready_settings() -> Settings:
    """For a process that runs until stopped: the settings, checked as `repocrew doctor`
    checks them before anything is logged, so a refusal is one line and nothing else."""
    from bot.operator.preflight import ensure_ready  # the doctor's checks import every SDK

    settings = load_settings()
    ensure_ready(settings)
    return setup_logging(settings)


def report_missing_credentials(settings: Settings) -> list[str]:
    """Lines naming each missing credential and what stays off without it."""
    lines = [
        f"missing {credential.name}: {credential.enables}"
        for credential in settings.missing_credentials()
    ]
    for line in lines:
        log.warning(line)
    return lines
