"""`repocrew doctor`: is this install ready? Each check says what is wrong and how to fix it.

Every check returns a `Check` and never raises for what it finds: a missing credential, a
refused key or an unreachable host is a finding for the operator, not a crash. Details never
hold a secret: they name the variable, never its value. Each SDK is imported by the check
that calls it: a process that only runs the start-up checks refuses in a second, not four.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.operator.manifests import slack_bot_scopes
from bot.ports.identity import OAuthFailed
from bot.ports.slack import PostError, Rejected
from bot.roster.loader import ConfigError, load_crew
from bot.sandbox import sandbox_status
from bot.settings import CREDENTIALS, Settings
from bot.store.engine import StoreError, make_engine
from bot.store.migrate import current_revision, head_revision

NAME_WIDTH = 30
TIMEOUT = 5  # seconds per outside call: doctor answers quickly or says what is unreachable

GITHUB_SETTINGS = "the GitHub App's settings page (github.com/settings/apps/<app>)"
SLACK_APP = "the Slack app's pages at api.slack.com/apps"
# How to get each credential, keyed by its first environment variable.
HOW_TO_GET: dict[str, str] = {
    "REPOCREW_GITHUB_WEBHOOK_SECRET": (
        f"the Webhook secret you typed on {GITHUB_SETTINGS}; set a new one there if lost"
    ),
    "REPOCREW_GITHUB_APP_ID": (
        f"'App ID' on {GITHUB_SETTINGS}; no App yet? `repocrew setup github --url URL`"
    ),
    "REPOCREW_GITHUB_PRIVATE_KEY": (
        f"'Generate a private key' on {GITHUB_SETTINGS}: the .pem's text, or its path in "
        "REPOCREW_GITHUB_PRIVATE_KEY_PATH"
    ),
    "REPOCREW_SLACK_SIGNING_SECRET": f"'Signing Secret' under Basic Information on {SLACK_APP}",
    "REPOCREW_SLACK_BOT_TOKEN": (
        f"the Bot User OAuth Token (xoxb-…) under OAuth & Permissions on {SLACK_APP}; "
        "no app yet? `repocrew setup slack --url URL`"
    ),
    "ANTHROPIC_API_KEY": "an API key from console.anthropic.com (Settings → API Keys)",
}


@dataclass(frozen=True)
class Check:
    """One finding: `ok` None means skipped (what it needs is not set)."""

    name: str
    ok: bool | None
    detail: str
    fix: str = ""


def check_store(settings: Settings) -> Check:
    name = "store"
    try:
        engine = make_engine(settings.database_url)
        try:
            current, head = current_revision(engine), head_revision()
        finally:
            engine.dispose()
    except (StoreError, OSError) as error:
        reason = getattr(error, "orig", None) or error
        fix = "check REPOCREW_DATABASE_URL and that the database server is up"
        return Check(name, False, f"cannot connect: {type(reason).__name__}: {reason}", fix)
    if current != head:
        detail = f"schema at {current or 'nothing'}, the code needs {head}"
        return Check(name, False, detail, "run `repocrew db upgrade`")
    return Check(name, True, f"connected; schema current ({head})")


def check_credentials(settings: Settings) -> list[Check]:
    checks = []
    for credential in CREDENTIALS:
        if credential.is_set(settings):
            checks.append(Check(credential.name, True, "set"))
        else:
            how = HOW_TO_GET.get(credential.env_names[0], "")
            detail = f"missing: needed for {credential.enables}"
            checks.append(Check(credential.name, False, detail, f"set it to {how}"))
    return checks


# How each failure of the App check is told: (what happened, what to do).
APP_CHECK_FAILURES: dict[str, Callable[[Settings, str], tuple[str, str]]] = {
    "refused": lambda _settings, detail: (
        f"GitHub refused the App's JWT: {detail}",
        "check REPOCREW_GITHUB_APP_ID and that the key is one of that App's private keys",
    ),
    "unreachable": lambda settings, detail: (
        f"cannot reach {settings.github_api_url}: {detail}",
        "check REPOCREW_GITHUB_API_URL and the network",
    ),
    "bad_key": lambda _settings, _detail: (
        "the private key is not a PEM RSA private key",
        "set REPOCREW_GITHUB_PRIVATE_KEY to the whole .pem file, BEGIN and END lines included",
    ),
}


def check_key_file(settings: Settings) -> Check:
    """The App key's file, when the key comes from one: a path that cannot be read would
    otherwise fail every GitHub call of a running server."""
    name = "REPOCREW_GITHUB_PRIVATE_KEY_PATH"
    path = settings.github_private_key_path
    if path is None or settings.github_private_key is not None:
        return Check(name, None, "not used")
    try:
        path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        fix = (
            "point it at the App's .pem file (`repocrew setup github` writes one), or put the"
            " key's text in REPOCREW_GITHUB_PRIVATE_KEY"
        )
        return Check(name, False, f"cannot read {path}: {reason}", fix)
    return Check(name, True, f"{path} is readable")


def check_github(settings: Settings) -> Check:
    from bot.github.app_check import AppCheckFailed, installation_accounts

    name = "GitHub App"
    if check_key_file(settings).ok is False:
        return Check(name, None, "skipped: the private key file cannot be read")
    key = settings.github_app_private_key
    if settings.github_app_id is None or not key:
        return Check(name, None, "skipped: no App id or private key")
    try:
        # With the App's JWT: proves the id and key belong together, and lists installations.
        accounts = installation_accounts(
            app_id=settings.github_app_id,
            private_key=key,
            api_url=settings.github_api_url,
            timeout=TIMEOUT,
        )
    except AppCheckFailed as error:
        return Check(name, False, *APP_CHECK_FAILURES[error.kind](settings, error.detail))
    if not accounts:
        fix = "install the App on a repository (its public page: Install App)"
        return Check(name, False, f"App {settings.github_app_id}: installed nowhere", fix)
    plural = "s" if len(accounts) != 1 else ""
    where = ", ".join(sorted(accounts))
    detail = f"App {settings.github_app_id}: {len(accounts)} installation{plural} ({where})"
    return Check(name, True, detail)


def check_oauth(settings: Settings) -> Check:
    """The OAuth App people prove their GitHub account with: asks GitHub for a device code."""
    from bot.github.oauth import GitHubOAuth

    name = "GitHub OAuth App"
    oauth = GitHubOAuth.from_settings(settings, None)
    if oauth is None:
        fix = (
            "register an OAuth App (github.com/settings/developers), enable Device Flow, set "
            "REPOCREW_GITHUB_OAUTH_CLIENT_ID and REPOCREW_GITHUB_OAUTH_CLIENT_SECRET"
        )
        return Check(name, None, "skipped: `/crew link` and dashboard sign-in are off", fix)
    oauth.timeout = TIMEOUT
    try:
        oauth.start_device()
    except OAuthFailed as error:
        fix = f"check REPOCREW_GITHUB_OAUTH_CLIENT_ID, REPOCREW_GITHUB_WEB_URL ({error})"
        if "device_flow_disabled" in str(error):
            fix = "tick 'Enable Device Flow' on the OAuth App's settings page"
        return Check(name, False, "GitHub refused the device flow", fix)
    if oauth.client_secret is None:
        fix = "set REPOCREW_GITHUB_OAUTH_CLIENT_SECRET for the dashboard's sign-in"
        return Check(name, False, "device flow ready; no client secret", fix)
    return Check(name, True, f"device flow ready at {settings.github_web_url}")


def check_slack(settings: Settings) -> Check:
    from bot.slack.poster import SlackPoster

    name = "Slack"
    if settings.slack_bot_token is None:
        return Check(name, None, "skipped: no bot token")
    token = settings.slack_bot_token.get_secret_value()
    poster = SlackPoster(token=token, base_url=settings.slack_api_url, timeout=TIMEOUT)
    try:
        who = poster.auth_test()
    except Rejected as error:
        fix = "set REPOCREW_SLACK_BOT_TOKEN to the app's current Bot User OAuth Token (xoxb-…)"
        return Check(name, False, f"Slack refused the token: {error}", fix)
    except PostError as error:
        fix = "check REPOCREW_SLACK_API_URL and the network"
        return Check(name, False, f"auth.test failed: {error}", fix)
    detail = f"auth.test ok: {who.get('user', '?')} in {who.get('team', '?')}"
    if not token.startswith("xoxb-"):
        return Check(name, False, f"{detail}, but not a bot token", "use the xoxb- token")
    if "scopes" not in who:
        return Check(name, True, f"{detail}; Slack did not say the token's scopes")
    granted = {scope.strip() for scope in who["scopes"].split(",")}
    missing = [scope for scope in slack_bot_scopes() if scope not in granted]
    if missing:
        fix = (
            f"add {', '.join(missing)} under OAuth & Permissions → Bot Token Scopes on "
            f"{SLACK_APP} (or update the app from `repocrew setup slack --url URL`), reinstall "
            "the app and set REPOCREW_SLACK_BOT_TOKEN to its new token"
        )
        return Check(name, False, f"{detail}, but the token lacks {', '.join(missing)}", fix)
    return Check(name, True, f"{detail}; every scope the manifest asks for")


def check_anthropic(settings: Settings) -> Check:
    from bot.llm.client import ModelClient, ModelError

    name = "Anthropic"
    if settings.anthropic_api_key is None:
        return Check(name, None, "skipped: no API key")
    client = ModelClient(
        api_key=settings.anthropic_api_key.get_secret_value(),
        base_url=settings.anthropic_base_url,
        max_retries=0,
        attempt_timeout=TIMEOUT,
    )
    try:
        models = client.list_models(timeout=TIMEOUT)
    except ModelError as error:
        fix = "check ANTHROPIC_API_KEY (console.anthropic.com) and REPOCREW_ANTHROPIC_BASE_URL"
        return Check(name, False, f"GET /v1/models failed: {error}", fix)
    finally:
        client.close()
    return Check(name, True, f"reachable; {len(models)} models available")


def check_sandbox(settings: Settings) -> Check:
    status = sandbox_status(settings.sandbox_bwrap)
    if status.available:
        return Check("sandbox", True, status.reason)
    return Check("sandbox", False, "unavailable: tests cannot run", status.reason)


def check_crew(settings: Settings) -> Check:
    name = "crew file"
    try:
        crew = load_crew(settings.crew_file)
    except ConfigError as error:  # one line, every problem on it
        detail = "; ".join(str(problem) for problem in error.problems)
        return Check(name, False, detail, f"fix {settings.crew_file} or `repocrew init`")
    except (OSError, UnicodeDecodeError) as error:
        return Check(name, False, str(error), f"fix {settings.crew_file} or `repocrew init`")
    source = settings.crew_file if settings.crew_file.is_file() else "the packaged default"
    return Check(name, True, f"{len(crew.roles)} roles from {source}")


CHECKS: tuple[Callable[[Settings], Check], ...] = (
    check_store,
    check_github,
    check_oauth,
    check_slack,
    check_anthropic,
    check_sandbox,
    check_crew,
)


def run_checks(settings: Settings) -> list[Check]:
    """Every check, in the order an operator fixes things: store, credentials, services."""
    first, *rest = CHECKS
    key_file = [found] if (found := check_key_file(settings)).ok is False else []
    credentials = [*check_credentials(settings), *key_file]
    return [first(settings), *credentials, *(check(settings) for check in rest)]


def failed(checks: list[Check]) -> bool:
    return any(check.ok is False for check in checks)


def render(checks: list[Check]) -> str:
    """A plain-text table: status, check, detail; each fix on its own line below."""
    width = min(max(len(check.name) for check in checks), NAME_WIDTH)
    indent = " " * (6 + width + 2)
    lines = []
    for check in checks:
        status = {True: "ok", False: "FAIL", None: "skip"}[check.ok]
        if len(check.name) > width:  # a long name gets its own line
            lines.append(f"{status:<4}  {check.name}")
            lines.append(f"{indent}{check.detail}")
        else:
            lines.append(f"{status:<4}  {check.name:<{width}}  {check.detail}")
        if check.fix and check.ok is not True:
            lines.append(f"{indent}→ {check.fix}")
    return "\n".join(lines)
