"""The shapes of well-known credentials, each with the guard that keeps ordinary code unflagged.

Patterns start with a literal (`ghs_`, `xoxb`, `-----BEGIN`, `://` …) where they can, so the
regex engine skips straight to candidates; word boundaries are checked in Python, not by a
lookbehind that would defeat that. There is deliberately no generic "high entropy" rule: git
SHAs, UUIDs, base64 blobs and hashes in lock files would all trip it.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass


def _always(match: re.Match[str]) -> bool:
    return True


def _mixed_case(match: re.Match[str]) -> bool:
    """Random tokens mix cases; `ghs_installation_token_for_repo` and kebab-case names don't."""
    value = match.group("value")
    return any(c.isupper() for c in value) and any(c.islower() for c in value)


def _random_looking(match: re.Match[str]) -> bool:
    """Two of upper, lower, digit: keeps out `YOUR_TOKEN_HERE` and `xxxxxxxxxxxx`."""
    value = match.group("secret")
    classes = (str.isupper, str.islower, str.isdigit)
    return sum(any(test(c) for c in value) for test in classes) >= 2


_PLACEHOLDER = re.compile(
    r"\{+[^}]*\}+|<[^>]*>|\[[^\]]*\]|\$\{?\w+\}?|%(?:\(\w+\))?[sd]|\*+|x+|\.+"
    r"|pass(?:word|wd)?|pwd|secret|token|changeme|example",
    re.IGNORECASE,
)
_LOCAL_HOST = re.compile(
    r"(?:localhost|127(?:\.\d+){3}|0\.0\.0\.0|\[::1\]|(?:[\w-]+\.)*example(?:\.\w+)?)(?::\d+)?$",
    re.IGNORECASE,
)


def _real_url_password(match: re.Match[str]) -> bool:
    """Not a template (`{password}`, `%s`, `$PASS`, `***`, `[REDACTED…]`), nor a local dev default.

    `postgres:postgres@localhost` sits in every compose file; refusing to commit those would make
    the crew useless, and real tokens in URLs are still caught by their own patterns.
    """
    user, value, host = match.group("user", "secret", "host")
    if _PLACEHOLDER.fullmatch(value) or value == user:
        return False
    return not _LOCAL_HOST.match(host)


@dataclass(frozen=True)
class SecretPattern:
    """One credential shape; the span is the `secret` group if there is one, else the match.

    `check` sees the match and may veto it (guards read the `value`/`secret` groups).
    """

    kind: str
    regex: re.Pattern[str]
    check: Callable[[re.Match[str]], bool] = _always
    boundary: bool = True  # the character before must not be a word character
    extend_back: frozenset[str] = frozenset()  # the span also takes these characters before it

    def spans(self, text: str) -> Iterator[tuple[int, int]]:
        for match in self.regex.finditer(text):
            before = text[match.start() - 1] if match.start() else " "
            if (self.boundary and (before.isalnum() or before == "_")) or not self.check(match):
                continue
            start, end = match.span("secret") if "secret" in self.regex.groupindex else match.span()
            while start and text[start - 1] in self.extend_back:
                start -= 1
            yield start, end


_KEY_NAME = r"[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"

# Earlier entries win when spans tie (a token inside a URL is reported as the token).
PATTERNS: tuple[SecretPattern, ...] = (
    SecretPattern(
        "private_key",
        # The body runs as far as base64, armour headers and escaped `\n`s do, so a key without
        # its END (a truncated paste, a key split across JSON strings) is still covered whole.
        re.compile(
            rf"-----BEGIN {_KEY_NAME}"
            r"(?:[A-Za-z0-9+/=\s]|\\[nr/]|(?:Proc-Type|DEK-Info|Version|Comment):[^\n\\]*)*+"
            rf"(?:-----END {_KEY_NAME})?"
        ),
        boundary=False,
    ),
    SecretPattern(
        "private_key",
        # The tail of a key whose BEGIN sits elsewhere (another JSON string, an earlier chunk).
        re.compile(rf"-----END {_KEY_NAME}"),
        boundary=False,
        extend_back=frozenset(string.ascii_letters + string.digits + "+/=\\ \t\r\n"),
    ),
    SecretPattern(
        "github_token", re.compile(r"gh[pousr]_(?P<value>[A-Za-z0-9_-]{30,255})"), _mixed_case
    ),
    SecretPattern(
        "github_token", re.compile(r"github_pat_(?P<value>[A-Za-z0-9_]{50,255})"), _mixed_case
    ),
    SecretPattern("slack_token", re.compile(r"xox[abposre](?:\.xox[bp])?-[A-Za-z0-9-]{8,}")),
    SecretPattern("slack_token", re.compile(r"xapp-[A-Za-z0-9-]{8,}")),
    SecretPattern(
        "slack_webhook",
        re.compile(r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/-]{8,}"),
        boundary=False,
    ),
    SecretPattern("anthropic_key", re.compile(r"sk-ant-[A-Za-z0-9_-]{20,}")),
    SecretPattern(
        "openai_key", re.compile(r"sk-(?!ant-)(?P<value>[A-Za-z0-9_-]{20,})"), _mixed_case
    ),
    SecretPattern(
        "aws_access_key_id", re.compile(r"A(?:KIA|SIA|BIA|CCA)[A-Z0-9]{16}(?![A-Za-z0-9])")
    ),
    SecretPattern(
        "aws_secret_key",
        re.compile(
            r"(?i:aws_?secret_?access_?key)[\"']?\s*[:=]\s*[\"']?"
            r"(?P<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"
        ),
    ),
    SecretPattern(
        "jwt",
        # Tried only where a base64 run starts: from every `eyJ` inside one it would be quadratic.
        re.compile(
            r"eyJ(?<![A-Za-z0-9_-]eyJ)[A-Za-z0-9_-]{8,}+\.eyJ[A-Za-z0-9_-]{8,}+\.[A-Za-z0-9_-]*+"
        ),
    ),
    SecretPattern(
        "authorization_header",
        re.compile(
            r"(?i:authorization)[\"']?\s*[:=]\s*[\"']?(?i:bearer|token|basic)\s+"
            r"(?P<secret>[A-Za-z0-9._~+/=-]{12,})"
        ),
        _random_looking,
    ),
    SecretPattern(
        "url_credentials",
        re.compile(
            r"://(?P<user>[^\s/?#@:\"'<>]*):(?P<secret>[^\s/?#@\"'<>]+)"
            r"@(?P<host>\[[0-9A-Fa-f:]+\](?::\d+)?|[A-Za-z0-9.-]+(?::\d+)?)"
        ),
        _real_url_password,
        boundary=False,
    ),
)
