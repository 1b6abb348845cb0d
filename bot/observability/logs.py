"""Structured logs: one JSON object per line, carrying the ids of the work in hand, redacted.

The ids come from `log_context(...)`, a context variable that the intake, the worker's job
dispatch and the crew engine bind, so every line logged meanwhile (ours, the SDKs', uvicorn's)
carries them without anyone passing them along. A new thread starts with an empty context:
bind again inside it, or start it with `contextvars.copy_context().run`.

Every string that goes into a line passes the secret scanner before it is encoded, the
message, the traceback and the context alike: redacting the encoded line instead could cut a
JSON string in half, and a PEM key's newlines no longer look like a PEM key once escaped.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

from bot.security.secrets import SecretScanner

# On every line, null when unknown, so a query never has to ask whether the key exists.
CORE_FIELDS = ("delivery_id", "run_id", "role", "installation_id")
FORMATS = ("auto", "json", "text")
_EMPTY: Mapping[str, Any] = {}
_context: ContextVar[Mapping[str, Any]] = ContextVar("repocrew_log_context", default=_EMPTY)
# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add these fields to every line logged in this block (None values are left out)."""
    token = _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def bind(**fields: Any) -> None:
    """Add fields for the rest of the current `log_context` block (which takes them away)."""
    _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})


def current_context() -> dict[str, Any]:
    return dict(_context.get())


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except (TypeError, ValueError, KeyError):
        # A bad format string: logging would print msg and args raw to stderr.
        return f"{record.msg} {record.args!r}"


def _redacted(value: Any, scanner: SecretScanner | None) -> Any:
    if scanner is None:
        return value
    if isinstance(value, str):
        return scanner.redact(value)
    if isinstance(value, Mapping):
        return {str(k): _redacted(v, scanner) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redacted(item, scanner) for item in value]
    if isinstance(value, bool | int | float) or value is None:
        return value
    return scanner.redact(str(value))


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "message", <context>, ["exc"], ["stack"]}`, one per line."""

    def __init__(self, scanner: SecretScanner | None = None) -> None:
        super().__init__()
        self.scanner = scanner

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": _message(record),
        }
        entry |= dict.fromkeys(CORE_FIELDS)
        entry |= _context.get()
        entry |= {k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS}
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(_redacted(entry, self.scanner), ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`12:04:05 WARNING logger: message [key=value …]` for a person at a terminal, who
    knows the day and reads the level in a column; redacted whole."""

    def __init__(self, scanner: SecretScanner | None = None) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%H:%M:%S")
        self.scanner = scanner

    def format(self, record: logging.LogRecord) -> str:
        try:
            line = super().format(record)
        except (TypeError, ValueError, KeyError):
            when = self.formatTime(record, self.datefmt)
            line = f"{when} {record.levelname:<7} {record.name}: {_message(record)}"
        context = _context.get()
        if context:
            line += " [" + " ".join(f"{k}={v}" for k, v in context.items()) + "]"
        return self.scanner.redact(line) if self.scanner is not None else line


def choose_format(setting: str, stream: TextIO) -> str:
    """`auto` is text at a terminal and JSON everywhere else (services, containers, CI)."""
    if setting not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {setting!r}")
    if setting != "auto":
        return setting
    isatty = getattr(stream, "isatty", None)
    return "text" if isatty is not None and isatty() else "json"


class _OurHandler(logging.StreamHandler):
    """Marks the handler `configure_logging` installed, so calling it again replaces it.

    Without a stream of its own it writes to whatever `sys.stderr` is when a line is logged:
    a stream replaced since (a test's capture, closed at its end) is never written to.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream or sys.stderr)
        self._follows_stderr = stream is None

    def emit(self, record: logging.LogRecord) -> None:
        if self._follows_stderr:
            self.stream = sys.stderr
        super().emit(record)


def configure_logging(
    *,
    level: str = "INFO",
    log_format: str = "auto",
    scanner: SecretScanner | None = None,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Send every logger's lines (uvicorn's access log too) to one redacting handler."""
    chosen = choose_format(log_format, stream or sys.stderr)
    handler = _OurHandler(stream)
    handler.setFormatter(JsonFormatter(scanner) if chosen == "json" else TextFormatter(scanner))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _OurHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn's own handlers would print around ours; with none, its lines propagate here.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    return handler
