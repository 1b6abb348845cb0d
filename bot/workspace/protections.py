"""Which workspace paths the crew may not change, or read, unless the configuration allows."""

from __future__ import annotations

# Keys and credentials: the crew neither reads nor changes them.
_SECRETS = (
    "**/*.pem",
    "**/*.key",
    "**/id_rsa*",
    "**/id_ed25519*",
    "**/.npmrc",
    "**/.pypirc",
    "**/secrets.*",
)
DEFAULT_PROTECTED: tuple[str, ...] = (
    ".github/workflows/**",
    ".git/**",
    ".env",
    ".env.*",
    *_SECRETS,
    ".repocrew.toml",
)
DEFAULT_UNREADABLE: tuple[str, ...] = ("**/.env", "**/.env.*", *_SECRETS)
# Whatever the configuration says: writing into a .git directory (hooks, config) is code
# execution on the worker the next time git runs.
ALWAYS_PROTECTED = ("**/.git/**",)
