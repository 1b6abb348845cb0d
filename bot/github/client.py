"""PyGithub clients per App installation: retries, timeouts, paging, and one writer at a time.

GitHub asks integrators to make mutating requests serially, not concurrently, per installation,
and to wait out secondary rate limits (403 or 429, usually with `Retry-After`). So every client
retries 5xx, 429 and rate-limit 403s with PyGithub's `GithubRetry` (which sleeps `Retry-After`
when GitHub sends one), and each installation has one lock its writes take in turn. The lock is
per process: workers in other processes are kept in line by the retries alone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import github
from github import Consts, GithubRetry
from github.Repository import Repository

from bot.github.auth import InstallationAuth
from bot.observability.calls import counting
from bot.roster.models import GitHubIdentity, Role
from bot.settings import Settings

PERMISSIONS = ("admin", "maintain", "write", "triage", "read", "none")  # strongest first
# POST and PATCH are retried too (urllib3 leaves them out): a 403/429 rate limit means GitHub
# did nothing, and the crew's posts carry markers, so a rare duplicate after a 5xx is found.
RETRIED_METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"})


@dataclass(frozen=True)
class ClientOptions:
    """How clients talk to GitHub; the defaults suit production, tests shrink the waits."""

    timeout: int = 15  # seconds per request
    retries: int = 5
    backoff_factor: float = 1.0  # 5xx waits: 0, 2, 4, 8 s ... (urllib3's doubling)
    backoff_max: float = 60.0
    secondary_rate_wait: float = 60.0  # a rate-limit 403 without Retry-After waits this long
    # A primary rate limit resets within the hour; rather than sleep through a job's lease,
    # longer waits raise RateLimitExceededExceedsMaxWait and the job queue retries later.
    max_rate_limit_wait: float = 120.0
    seconds_between_writes: float | None = 1.0  # GitHub's advice for mutating requests
    per_page: int = 100  # GitHub's maximum, so long threads take few requests
    token_refresh_margin: float = 300.0  # renew installation tokens this long before expiry
    permission_ttl: float = 60.0  # how long a collaborator permission is trusted


def retry_policy(options: ClientOptions) -> GithubRetry:
    """Retry 5xx, 429 and rate-limit 403s; after the last try, GitHub's answer is raised."""
    return counting(GithubRetry)(  # counts responses and retries for /metrics
        total=options.retries,
        backoff_factor=options.backoff_factor,
        backoff_max=options.backoff_max,
        secondary_rate_wait=options.secondary_rate_wait,
        max_rate_limit_wait=options.max_rate_limit_wait,
        status_forcelist=[*range(500, 600), 429],  # GithubRetry adds 403 itself
        allowed_methods=RETRIED_METHODS,
        # the last failing response goes back to PyGithub, which raises GithubException
        raise_on_status=False,
    )


class InstallationClient:
    """A PyGithub client acting as one installation of one App, and that installation's lock."""

    def __init__(
        self,
        tokens: InstallationAuth,
        installation_id: int,
        *,
        base_url: str,
        options: ClientOptions,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.installation_id = installation_id
        self._tokens = tokens
        self._options = options
        self._clock = clock
        self._writes = threading.Lock()
        self._permissions: dict[tuple[str, str], tuple[float, str]] = {}
        self.github = github.Github(
            auth=tokens.auth_for(installation_id),
            base_url=base_url,
            timeout=options.timeout,
            per_page=options.per_page,
            retry=retry_policy(options),
            seconds_between_requests=None,
            seconds_between_writes=options.seconds_between_writes,
            lazy=True,  # objects are fetched only when read, so edits by id cost one request
        )

    def __repr__(self) -> str:
        return f"InstallationClient(app_id={self.app_id}, installation_id={self.installation_id})"

    @property
    def app_id(self) -> int:
        return self._tokens.app_id

    @property
    def bot_login(self) -> str:
        return self._tokens.bot_login

    def token(self) -> str:
        """A current installation token (for git over HTTPS as `x-access-token`)."""
        return self._tokens.token_for(self.installation_id)

    def forget_token(self) -> None:
        """Mint a new token on the next request: GitHub refused the cached one."""
        self._tokens.forget(self.installation_id)

    def repo(self, full_name: str) -> Repository:
        return self.github.get_repo(full_name)

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the installation's write lock: one mutating request at a time."""
        with self._writes:
            yield

    def permission_of(self, repo_full_name: str, login: str) -> str:
        """`login`'s permission on the repository: admin, maintain, write, triage, read or none.

        Asked often (every command a human types), so remembered for `permission_ttl` seconds.
        """
        key = (repo_full_name.lower(), login.lower())
        now = self._clock()
        cached = self._permissions.get(key)
        if cached is not None and now - cached[0] < self._options.permission_ttl:
            return cached[1]
        permission = _role_name(self.repo(repo_full_name), login)
        self._permissions[key] = (now, permission)
        return permission


def _role_name(repo: Repository, login: str) -> str:
    # `permission` folds maintain into write and triage into read; `role_name` keeps them, but
    # names an organization's custom role as its owner called it: then `permission` it is.
    try:
        _, data = repo.requester.requestJsonAndCheck(
            "GET", f"{repo.url}/collaborators/{quote(login, safe='')}/permission"
        )
    except github.UnknownObjectException:
        return "none"
    role = data.get("role_name")
    return role if role in PERMISSIONS else str(data.get("permission") or "none")


class GitHubApp:
    """One GitHub App: its tokens and a client per installation, each made once."""

    def __init__(
        self,
        app_id: int,
        private_key: str,
        *,
        base_url: str = Consts.DEFAULT_BASE_URL,
        options: ClientOptions | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.options = options or ClientOptions()
        self.base_url = base_url
        self._clock = clock
        self.tokens = InstallationAuth(
            app_id,
            private_key,
            base_url=base_url,
            refresh_margin=self.options.token_refresh_margin,
            clock=clock,
            timeout=self.options.timeout,
            retry=retry_policy(self.options),
        )
        self._clients: dict[int, InstallationClient] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"GitHubApp(app_id={self.app_id})"

    def close(self) -> None:
        """Let go of the connections of every client (the process is stopping)."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.github.close()
        self.tokens.close()

    @property
    def app_id(self) -> int:
        return self.tokens.app_id

    def installation(self, installation_id: int) -> InstallationClient:
        with self._lock:
            if installation_id not in self._clients:
                self._clients[installation_id] = InstallationClient(
                    self.tokens,
                    installation_id,
                    base_url=self.base_url,
                    options=self.options,
                    clock=self._clock,
                )
            return self._clients[installation_id]

    def for_repo(self, full_name: str) -> InstallationClient:
        """The client of this App's installation on `owner/name`."""
        return self.installation(self.tokens.installation_for_repo(full_name))


class GitHubApps:
    """The process's Apps: the main one and roles' own, each built once so tokens are reused.

    A role's `private_key_path`, when relative, is read from `key_dir` (the crew file's folder).
    """

    def __init__(
        self,
        main: GitHubApp,
        *,
        key_dir: Path = Path("."),
        options: ClientOptions | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.main = main
        self.key_dir = key_dir
        self._options = options or main.options
        self._clock = clock
        self._apps: dict[int, GitHubApp] = {main.app_id: main}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        options: ClientOptions | None = None,
        clock: Callable[[], float] = time.time,
    ) -> GitHubApps:
        key = settings.github_app_private_key
        if settings.github_app_id is None or not key:
            raise ValueError(
                "acting on GitHub needs REPOCREW_GITHUB_APP_ID and REPOCREW_GITHUB_PRIVATE_KEY"
                " (or REPOCREW_GITHUB_PRIVATE_KEY_PATH)"
            )
        main = GitHubApp(
            settings.github_app_id,
            key,
            base_url=settings.github_api_url,
            options=options,
            clock=clock,
        )
        return cls(main, key_dir=settings.crew_file.parent, options=options, clock=clock)

    def close(self) -> None:
        with self._lock:
            apps = list(self._apps.values())
        for app in apps:
            app.close()

    def app_for(self, identity: GitHubIdentity) -> GitHubApp | None:
        """The role's own App, or None when it posts as the main App."""
        if identity.app_id is None or identity.private_key_path is None:
            return None
        with self._lock:
            if identity.app_id not in self._apps:
                key = (self.key_dir / identity.private_key_path).read_text()
                self._apps[identity.app_id] = GitHubApp(
                    identity.app_id,
                    key,
                    base_url=self.main.base_url,
                    options=self._options,
                    clock=self._clock,
                )
            return self._apps[identity.app_id]

    def role_clients(
        self, roles: Iterable[Role], repo_full_name: str
    ) -> dict[str, InstallationClient]:
        """Role key → client of the role's own App on the repository, for roles that have one."""
        clients = {}
        for role in roles:
            app = self.app_for(role.github)
            if app is not None and app is not self.main:
                clients[role.key] = app.for_repo(repo_full_name)
        return clients
