"""Text guards between untrusted input, the model, and everything that leaves.

`hidden` strips what a reader would not see, `untrusted` fences input as data, `secrets` finds
and redacts credentials (shapes in `patterns`) in prompts, tool output, logs and posts.
"""

from bot.security.hidden import hidden_content_found, strip_hidden
from bot.security.secrets import (
    RedactingFilter,
    SecretFinding,
    SecretLeak,
    SecretScanner,
    install_log_redaction,
    redact_json,
    scanner_for_settings,
)
from bot.security.untrusted import UNTRUSTED_PREAMBLE, fence_untrusted

__all__ = [
    "UNTRUSTED_PREAMBLE",
    "RedactingFilter",
    "SecretFinding",
    "SecretLeak",
    "SecretScanner",
    "fence_untrusted",
    "hidden_content_found",
    "install_log_redaction",
    "redact_json",
    "scanner_for_settings",
    "strip_hidden",
]
