"""One typed settings object for the whole process; nothing else reads os.environ."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

GITHUB_API_URL = "https://api.github.com"
GITHUB_WEB_URL = "https://github.com"
SLACK_API_URL = "https://slack.com/api/"
ANTHROPIC_BASE_URL = "https://api.anthropic.com"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# What hosts hand out (Heroku, Render, Fly…), what we document, and the driver we ship.
POSTGRES_SCHEMES = ("postgres://", "postgresql://")
POSTGRES_DRIVER = "postgresql+psycopg://"


class Settings(BaseSettings):
    """Configuration from `REPOCREW_*` environment variables and a `.env` file."""

    model_config = SettingsConfigDict(
        env_prefix="REPOCREW_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    database_url: str = Field(
        default="sqlite:///./repocrew.db",
        description="SQLAlchemy URL of the store: SQLite (embedded default) or PostgreSQL.",
    )
    github_webhook_secret: SecretStr | None = Field(
        default=None, description="Secret GitHub signs webhook deliveries with."
    )
    github_app_id: int | None = Field(default=None, description="The GitHub App's numeric id.")
    github_private_key: SecretStr | None = Field(
        default=None, description="The GitHub App's private key (PEM text)."
    )
    github_private_key_path: Path | None = Field(
        default=None, description="Path of a file holding the GitHub App's private key."
    )
    github_api_url: str = Field(default=GITHUB_API_URL, description="GitHub REST API base URL.")
    github_web_url: str = Field(
        default=GITHUB_WEB_URL,
        description="GitHub's web address: OAuth sign-in and the device flow live there.",
    )
    github_oauth_client_id: str | None = Field(
        default=None,
        description="The OAuth App's client id: `/crew link` (device flow), dashboard sign-in.",
    )
    github_oauth_client_secret: SecretStr | None = Field(
        default=None, description="The OAuth App's client secret (the dashboard's web flow)."
    )
    slack_bot_token: SecretStr | None = Field(
        default=None, description="Slack bot token (xoxb-…) the crew posts with."
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None, description="Secret Slack signs requests to /slack/* with."
    )
    slack_api_url: str = Field(default=SLACK_API_URL, description="Slack Web API base URL.")
    anthropic_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("ANTHROPIC_API_KEY", "REPOCREW_ANTHROPIC_API_KEY"),
        description="Anthropic API key for the crew's model calls.",
    )
    anthropic_base_url: str = Field(
        default=ANTHROPIC_BASE_URL, description="Anthropic API base URL."
    )
    job_lease_seconds: float = Field(
        default=60.0, gt=0, description="How long a worker's claim on a job lasts unrenewed."
    )
    job_max_attempts: int = Field(
        default=5,
        ge=1,
        description="Attempts before a failing job is marked dead (read by the worker that "
        "claims it, for every job not queued with a limit of its own).",
    )
    job_backoff_seconds: float = Field(
        default=2.0, gt=0, description="First retry delay; doubles with every attempt."
    )
    worker_poll_seconds: float = Field(
        default=0.5, gt=0, description="How often an idle worker looks for new jobs."
    )
    worker_concurrency: int = Field(
        default=8,
        ge=1,
        description="Jobs a worker process runs at once.",
    )
    worker_runs_at_once: int = Field(
        default=2,
        ge=1,
        description=(
            "Crew runs a worker process drives at once, within its concurrency (each run one"
            " step at a time)."
        ),
    )
    github_seconds_between_writes: float = Field(
        default=1.0,
        ge=0,
        description="Pause between two mutating GitHub requests of one installation (0: none).",
    )
    shutdown_grace_seconds: float = Field(
        default=30.0, ge=0, description="How long SIGTERM waits for an in-flight job."
    )
    max_webhook_bytes: int = Field(
        default=25 * 1024 * 1024, gt=0, description="Largest accepted webhook body (GitHub's cap)."
    )
    log_level: str = Field(default="INFO", description="Log level of the process.")
    log_format: Literal["auto", "json", "text"] = Field(
        default="auto",
        description="json: one JSON object per line; text: for people; auto: text at a terminal.",
    )
    crew_file: Path = Field(
        default=Path("crew.toml"),
        description=(
            "The crew's roster file (`repocrew init` writes it); absent → the packaged default"
            " roster."
        ),
    )
    work_dir: Path = Field(
        default=Path(".repocrew"),
        description="Where runs keep their workspace clones and local runs their posts.",
    )
    model_timeout_s: float = Field(
        default=120, gt=0, description="Each attempt of a model call (a stream: between reads)."
    )
    model_deadline_s: float = Field(
        default=900, gt=0, description="A whole model call, its retries included."
    )
    model_stream_from_tokens: int = Field(
        default=4096,
        gt=0,
        description="Calls that may answer this many tokens or more are streamed.",
    )
    repo_map_chars: int = Field(
        default=16_000,
        ge=0,
        description="Characters of the repository map in every model request (0: no map).",
    )
    registry_allowlist: str = Field(
        default="pypi.org,files.pythonhosted.org,registry.npmjs.org",
        description=(
            "Where a repository's set-up may connect (comma-separated hosts, `*.suffix`,"
            " host:port); index and registry URLs of the host's pip and npm configuration are"
            " added."
        ),
    )
    markdown_allowed_hosts: str = Field(
        default="",
        description=(
            "Hosts (comma-separated) the crew's Markdown may link to and show images from,"
            " besides the repository's own GitHub host."
        ),
    )
    sandbox_bwrap: str = Field(
        default="bwrap",
        description="The bubblewrap executable the sandbox runs: a name on PATH or a path.",
    )
    env_cache_max_mb: int = Field(
        default=10_240, gt=0, description="Total size of the cache of built environments."
    )
    env_cache_max_age_days: float = Field(
        default=14, gt=0, description="A built environment unused this long is dropped."
    )
    dashboard_token: SecretStr | None = Field(
        default=None,
        description="Token that logs in to the read-only dashboard (/dashboard); unset, it is off.",
    )

    @field_validator("dashboard_token")
    @classmethod
    def _long_dashboard_token(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and len(token.get_secret_value().strip()) < 16:
            raise ValueError("must be at least 16 characters")
        return token

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, url: str) -> str:
        return database_url(url)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, level: str) -> str:
        if level.upper() not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level.upper()

    @field_validator("github_api_url", "github_web_url", "slack_api_url", "anthropic_base_url")
    @classmethod
    def _web_address(cls, url: str) -> str:
        if not url.startswith(("https://", "http://")):
            raise ValueError("must be an http:// or https:// URL")
        return url

    @property
    def registries(self) -> list[str]:
        return [entry.strip() for entry in self.registry_allowlist.split(",") if entry.strip()]

    @property
    def markdown_hosts(self) -> list[str]:
        return [entry.strip() for entry in self.markdown_allowed_hosts.split(",") if entry.strip()]

    @cached_property
    def github_app_private_key(self) -> str | None:
        """The App key from the variable or the file, whichever is set."""
        if self.github_private_key is not None:
            return self.github_private_key.get_secret_value()
        if self.github_private_key_path is not None:
            return self.github_private_key_path.read_text()
        return None

    def missing_credentials(self) -> list[MissingCredential]:
        """Credentials that are absent, each with what it would enable."""
        return [c for c in CREDENTIALS if not c.is_set(self)]


@dataclass(frozen=True)
class MissingCredential:
    """A credential and the capability that stays off without it."""

    env_names: tuple[str, ...]
    enables: str
    attributes: tuple[str, ...]

    def is_set(self, settings: Settings) -> bool:
        return any(getattr(settings, name) is not None for name in self.attributes)

    @property
    def name(self) -> str:
        return " or ".join(self.env_names)


CREDENTIALS: tuple[MissingCredential, ...] = (
    MissingCredential(
        ("REPOCREW_GITHUB_WEBHOOK_SECRET",),
        "POST /github/webhook (without it every delivery is refused with 503)",
        ("github_webhook_secret",),
    ),
    MissingCredential(
        ("REPOCREW_GITHUB_APP_ID",), "acting on GitHub as the App", ("github_app_id",)
    ),
    MissingCredential(
        ("REPOCREW_GITHUB_PRIVATE_KEY", "REPOCREW_GITHUB_PRIVATE_KEY_PATH"),
        "signing the GitHub App's JWT to get installation tokens",
        ("github_private_key", "github_private_key_path"),
    ),
    MissingCredential(
        ("REPOCREW_SLACK_SIGNING_SECRET",),
        "POST /slack/events, /slack/commands, /slack/interactions (503 without it)",
        ("slack_signing_secret",),
    ),
    MissingCredential(
        ("REPOCREW_SLACK_BOT_TOKEN",), "posting to Slack as the crew", ("slack_bot_token",)
    ),
    MissingCredential(
        ("ANTHROPIC_API_KEY",), "the agents' model calls (Anthropic)", ("anthropic_api_key",)
    ),
)


def database_url(url: str) -> str:
    """A store URL SQLAlchemy can use: `postgres://` and `postgresql://` get the psycopg 3
    driver we ship (SQLAlchemy would otherwise look for psycopg2), and a URL that would be
    misread (an unencoded `@` in the password, a port that is not a number) is refused here,
    where the message can leave the password out."""
    if not url.startswith(("sqlite", "postgresql")) and not url.startswith(POSTGRES_SCHEMES):
        raise ValueError("must be a sqlite:///path or postgresql://user:password@host/db URL")
    for scheme in POSTGRES_SCHEMES:
        if url.startswith(scheme):
            url = POSTGRES_DRIVER + url.removeprefix(scheme)
    if url.startswith("postgresql") and not _unambiguous(url):
        raise ValueError(
            "cannot be read as user:password@host:port/db: %-encode the password's special"
            " characters (@ as %40, : as %3A, / as %2F, # as %23)"
        )
    return url


def _unambiguous(url: str) -> bool:
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 (reading it is the check)
    except ValueError:
        return False
    return parts.netloc.count("@") <= 1


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; keyword overrides win (tests, CLI flags)."""
    return Settings(**overrides)  # type: ignore[arg-type]
