"""Text as the dashboard shows it: redacted first, then clipped, so a cut never halves a secret
into something the scanner no longer recognises."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

Redact = Callable[[str], str]

# Keys whose values are credentials whatever they look like (Slack's verification token,
# response URLs that let anyone post for a while, OAuth codes and tokens in payloads).
SECRET_KEYS = frozenset(
    {
        "token",
        "access_token",
        "refresh_token",
        "bot_token",
        "client_secret",
        "secret",
        "password",
        "authorization",
        "private_key",
        "api_key",
        "response_url",
        "code",
    }
)

_NAMES = "|".join(sorted(SECRET_KEYS)) + r"|\w+_(?:secret|password|token)"
_SECRET_FIELD = re.compile(
    rf'((?:"(?:{_NAMES})"\s*:\s*")|(?:(?<![\w%])(?:{_NAMES})=))[^"&\s]*', re.IGNORECASE
)


def shown(text: str, redact: Redact, limit: int) -> str:
    clean = redact(text)
    if len(clean) <= limit:
        return clean
    return clean[:limit] + f"\n… ({len(clean) - limit:,} more characters)"


def pretty(value: Any, redact: Redact, limit: int) -> str:
    """JSON-like data as indented text, redacted and clipped."""
    return shown(json.dumps(value, indent=2, ensure_ascii=False, default=str), redact, limit)


def masked(value: Any) -> Any:
    """A copy of JSON data with the values of credential-named keys replaced."""
    if isinstance(value, dict):
        return {
            key: "[REDACTED:by key]" if _secret_key(key) else masked(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


def mask_text(text: str) -> str:
    """Credential-named fields in text that would not parse (a payload cut short)."""
    return _SECRET_FIELD.sub(lambda m: m.group(1) + "[REDACTED:by key]", text)


def first_text(content: Any, keys: tuple[str, ...], limit: int, redact: Redact) -> str:
    """The first non-empty string among `keys` of a dict: a one-line gist of a step's result."""
    if not isinstance(content, dict):
        return ""
    for key in keys:
        value = content.get(key)
        if isinstance(value, str) and value.strip():
            return shown(" ".join(value.split()), redact, limit)
    return ""


def _secret_key(key: object) -> bool:
    if not isinstance(key, str):
        return False
    lowered = key.lower()
    return lowered in SECRET_KEYS or lowered.endswith(("_secret", "_password", "_token"))
