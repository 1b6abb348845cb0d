"""Find and redact secrets in everything that leaves: model input, tool output, logs, posts.

Two nets: the exact values we hold (App key, tokens, signing secrets, each installation token as
it is minted), in the encodings they leak in, and the shapes of well-known credentials
(`bot.security.patterns`). Findings carry offsets and a kind, never the value, so they are safe
to log and to put in exception messages.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus

from bot.security.patterns import PATTERNS

if TYPE_CHECKING:
    from bot.settings import Settings

MIN_KNOWN_LENGTH = 8  # shorter values would redact ordinary words
_MIN_FRAGMENT = 16  # base64 pieces and PEM lines shorter than this could occur by chance
KNOWN = "known_secret"
_PEM_LINES = re.compile(r"\r?\n|\\r\\n|\\n")
_SETTINGS_SECRETS = (
    "github_webhook_secret",
    "slack_bot_token",
    "slack_signing_secret",
    "anthropic_api_key",
    "dashboard_token",
)


@dataclass(frozen=True)
class SecretFinding:
    """Where a secret sits and what kind it is; deliberately without the value."""

    kind: str
    start: int
    end: int


class SecretLeak(Exception):
    """Outgoing text held a secret; it names where and which kinds, never the value."""

    def __init__(self, where: str, kinds: Sequence[str]) -> None:
        super().__init__(where, tuple(kinds))
        self.where = where
        self.kinds = tuple(kinds)

    def __str__(self) -> str:
        return f"refused to send {self.where}: it contains {', '.join(self.kinds)}"


class SecretScanner:
    """Finds known secret values and well-known credential shapes in text."""

    def __init__(self, known: Iterable[str] = ()) -> None:
        self._known: tuple[str, ...] = ()
        self.add_known(*known)

    def add_known(self, *values: str) -> None:
        """Also look for these values (e.g. an installation token minted mid-run)."""
        forms = set(self._known)
        for value in values:
            forms |= _known_forms(value)
        # Replaced whole, so a scan running in another thread sees the old or the new tuple.
        self._known = tuple(sorted(forms, key=len, reverse=True))

    def find(self, text: str) -> list[SecretFinding]:
        """Every secret in the text, overlapping hits merged, in order."""
        found = [
            (start, end, rank, pattern.kind)
            for rank, pattern in enumerate(PATTERNS)
            for start, end in pattern.spans(text)
        ]
        for value in self._known:
            at = text.find(value)
            while at != -1:
                found.append((at, at + len(value), len(PATTERNS), KNOWN))
                at = text.find(value, at + len(value))
        return _merged(found)

    def redact(self, text: str) -> str:
        """The text with each finding replaced by `[REDACTED:<kind>]`."""
        pieces: list[str] = []
        at = 0
        for finding in self.find(text):
            pieces += [text[at : finding.start], f"[REDACTED:{finding.kind}]"]
            at = finding.end
        return "".join([*pieces, text[at:]])

    def check_outgoing(self, text: str, *, where: str) -> None:
        """Raise `SecretLeak` if the text holds a secret; call before anything leaves."""
        findings = self.find(text)
        if findings:
            raise SecretLeak(where, sorted({finding.kind for finding in findings}))


def _known_forms(value: str) -> set[str]:
    """The spellings a value leaks in: as is, reversed, hex, base64 and base64url (also
    mid-stream), URL- and JSON-escaped; for a PEM key also each body line, which survives
    being split across strings."""
    if len(value.strip()) < MIN_KNOWN_LENGTH:
        return set()
    core = value.strip()
    forms = {value, core, quote(core, safe=""), quote_plus(core), json.dumps(core)[1:-1]}
    forms |= {core.encode().hex(), core.encode().hex().upper(), core[::-1]}
    forms |= _base64_forms(core.encode())
    if "PRIVATE KEY-----" in core:
        lines = (line.strip() for line in _PEM_LINES.split(core))
        forms |= {line for line in lines if len(line) >= _MIN_FRAGMENT and "-----" not in line}
    return {form for form in forms if len(form) >= MIN_KNOWN_LENGTH}


def _base64_forms(data: bytes) -> set[str]:
    """Standalone encodings, plus the middle of the encoding at each of the three byte offsets
    the value can sit at inside longer data (`Basic base64("x-access-token:" + token)`)."""
    whole = base64.b64encode(data).decode()
    forms = {whole, whole.rstrip("=")}
    for shift in range(3):
        encoded = base64.b64encode(bytes(shift) + data).decode()
        first = 1 if shift else 0  # the first group mixes in bytes from before the value
        last = (shift + len(data)) // 3  # groups after this one mix in bytes from after it
        fragment = encoded[4 * first : 4 * last]
        if len(fragment) >= _MIN_FRAGMENT:
            forms.add(fragment)
    return forms | {form.replace("+", "-").replace("/", "_") for form in forms}


def _merged(found: list[tuple[int, int, int, str]]) -> list[SecretFinding]:
    """One finding per overlapping group, named by its earliest hit; on a tie the pattern listed
    first (a known value comes last: the shape says more)."""
    merged: list[SecretFinding] = []
    for start, end, _, kind in sorted(found, key=lambda hit: (hit[0], hit[2], -hit[1])):
        if merged and start < merged[-1].end:
            last = merged[-1]
            merged[-1] = SecretFinding(last.kind, last.start, max(last.end, end))
        else:
            merged.append(SecretFinding(kind, start, end))
    return merged


def redact_json(value: Any, scanner: SecretScanner) -> Any:
    """A copy of JSON-like data (transcripts) with every string, keys included, redacted."""
    if isinstance(value, str):
        return scanner.redact(value)
    if isinstance(value, dict):
        return {redact_json(k, scanner): redact_json(v, scanner) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_json(item, scanner) for item in value]
    return value


class RedactingFilter(logging.Filter):
    """Formats each record's message, then redacts it, its traceback and its stack."""

    _formatter = logging.Formatter()

    def __init__(self, scanner: SecretScanner) -> None:
        super().__init__()
        self.scanner = scanner

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):
            # A bad format string; logging would print msg and args raw to stderr.
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = self.scanner.redact(message), None
        if record.exc_info and not record.exc_text:
            # Formatters reuse a cached exc_text, so the traceback is printed redacted.
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scanner.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.scanner.redact(record.stack_info)
        return True


def install_log_redaction(
    scanner: SecretScanner, logger: logging.Logger | None = None
) -> RedactingFilter:
    """Put a `RedactingFilter` on every handler of the logger (root by default), replacing any
    earlier one. Handler filters see records propagated from child loggers, logger filters
    don't; handlers added later need `handler.addFilter(returned_filter)`."""
    redacting = RedactingFilter(scanner)
    for handler in (logger or logging.getLogger()).handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(old)
        handler.addFilter(redacting)
    return redacting


def scanner_for_settings(settings: Settings) -> SecretScanner:
    """A scanner that knows every secret in the settings, the App's private key included.

    A key path that cannot be read raises here, at start-up: a scanner silently missing the
    key would be worse than not starting.
    """
    values = [
        secret.get_secret_value()
        for name in _SETTINGS_SECRETS
        if (secret := getattr(settings, name)) is not None
    ]
    if (key := settings.github_app_private_key) is not None:
        values.append(key)
    return SecretScanner(values)
