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
from pathlib import Path
from urllib.parse import quote

import github
from github import Consts
from github.Repository import Repository

from bot.github.access import METADATA, READ, Access
from bot.github.auth import InstallationAuth
from bot.github.options import ClientOptions, retry_policy
from bot.roster.models import GitHubIdentity, Role
from bot.settings import Settings

PERMISSIONS = ("admin", "maintain", "write", "triage", "read", "none")  # strongest first


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
        self._base_url = base_url
        self._apis: dict[tuple[str, Access], github.Github] = {}
        self._apis_lock = threading.Lock()

    def api(self, repo: str | None, access: Access) -> github.Github:
        """A PyGithub client whose tokens are minted for `repo` with `access` only."""
        key = ((repo or "").lower(), access)
        with self._apis_lock:
            if key not in self._apis:
                options = self._options
                self._apis[key] = github.Github(
                    auth=self._tokens.auth_for(self.installation_id, repo, access),
                    base_url=self._base_url,
                    timeout=options.timeout,
                    per_page=options.per_page,
                    retry=retry_policy(options),
                    seconds_between_requests=None,
                    seconds_between_writes=options.seconds_between_writes,
                    lazy=True,  # objects are fetched only when read: edits by id cost one request
                )
            return self._apis[key]

    @property
    def github(self) -> github.Github:
        """The installation-level client (`metadata: read` on every repository it reaches)."""
        return self.api(None, METADATA)

    def close(self) -> None:
        with self._apis_lock:
            apis, self._apis = list(self._apis.values()), {}
        for api in apis:
            api.close()

    def __repr__(self) -> str:
        return f"InstallationClient(app_id={self.app_id}, installation_id={self.installation_id})"

    @property
    def app_id(self) -> int:
        return self._tokens.app_id

    @property
    def bot_login(self) -> str:
        return self._tokens.bot_login

    def token(self, repo: str, access: Access) -> str:
        """A current token for `repo` with `access` (for git over HTTPS as `x-access-token`)."""
        return self._tokens.token_for(self.installation_id, repo, access)

    def forget_token(self) -> None:
        """Mint a new token on the next request: GitHub refused the cached one."""
        self._tokens.forget(self.installation_id)

    def repo(self, full_name: str, access: Access = READ) -> Repository:
        """The repository, through a client holding a token for it with `access` only."""
        return self.api(full_name, access).get_repo(full_name)

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
            client.close()
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
