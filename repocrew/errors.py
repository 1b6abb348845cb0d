"""The command line's edge: a command that fails ends with one line on stderr and a non-zero
exit, never a traceback; `repocrew --debug …` (or REPOCREW_DEBUG=1) lets the traceback through.

The one place that knows how each kind of failure is told, so commands raise and never format.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

import typer
from pydantic import ValidationError
from typer.core import TyperGroup

from bot.security.secrets import SecretScanner
from repocrew.settings_errors import settings_line

CONFIGURATION, FAILURE = 2, 1  # exit codes: fix the configuration / the command failed
_URL_PASSWORD = re.compile(r"(?<=://)([^:/@\s]*):[^@\s]+@")


def _store(error: Any) -> str:
    reason = getattr(error, "orig", None) or error
    return f"the store (REPOCREW_DATABASE_URL) failed: {type(reason).__name__}: {reason}"


def _os(error: Any) -> str:
    where = f": {error.filename}" if error.filename else ""
    return f"{error.strerror or error}{where}"


Told = tuple[int, Callable[[Any], str]]


@cache
def known_failures() -> dict[type[BaseException], Told]:
    """Each known failure: (exit code, how it reads); looked up along the exception's classes.

    Built on the first failure: importing the store, the model and git adapters costs seconds
    that `repocrew --help` and every command that succeeds should not pay.
    """
    from bot.llm.errors import ModelError
    from bot.operator.preflight import NotReady
    from bot.roster.loader import ConfigError
    from bot.runs.lifecycle import RepositoryNotFound
    from bot.store.engine import StoreError
    from bot.workspace.gitcli import GitError

    return {
        ValidationError: (CONFIGURATION, settings_line),
        ConfigError: (CONFIGURATION, lambda error: "; ".join(map(str, error.problems))),
        NotReady: (CONFIGURATION, str),
        RepositoryNotFound: (CONFIGURATION, str),
        StoreError: (FAILURE, _store),
        GitError: (FAILURE, lambda error: f"git failed: {error}"),
        ModelError: (FAILURE, lambda error: f"the model call failed: {error}"),
        LookupError: (FAILURE, lambda error: str(error.args[0] if error.args else error)),
        OSError: (FAILURE, _os),
    }


def one_line(error: BaseException) -> tuple[int, str]:
    """The exit code and the single line that tell this failure; secrets masked."""
    known = known_failures()
    for kind in type(error).__mro__:
        if kind in known:
            code, told = known[kind]
            return code, _clean(told(error))
    hint = "run `repocrew --debug …` (or set REPOCREW_DEBUG=1) for the traceback"
    return FAILURE, _clean(f"unexpected {type(error).__name__}: {error} ({hint})")


def _clean(text: str) -> str:
    """One line, no password in a URL, no token of a known shape."""
    flat = " ".join(text.split())
    return SecretScanner().redact(_URL_PASSWORD.sub(r"\1:***@", flat))


class OneLineErrors(TyperGroup):
    """The top-level group: every subcommand runs inside this `invoke`."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # typer's own: exits, and usage errors that already say what they need to
        except Exception as error:
            if ctx.params.get("debug"):
                raise
            code, line = one_line(error)
            command = " ".join(["repocrew", *filter(None, [ctx.invoked_subcommand])])
            typer.echo(f"{command}: {line}", err=True)
            raise typer.Exit(code) from None
