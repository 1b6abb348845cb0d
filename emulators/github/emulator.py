"""`GitHubEmulator`: the state a test or the demo seeds, and the API serves."""

from __future__ import annotations

import itertools
import secrets
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path

from emulators.github import hooks
from emulators.github.defaults import (
    DEFAULT_EVENTS,
    DEFAULT_PERMISSIONS,
    app_key_pair,
    default_labels,
)
from emulators.github.faults import Faults
from emulators.github.gitrepo import GitRepo, Signature
from emulators.github.hookshot import Hookshot
from emulators.github.oauth import OAuthState
from emulators.github.state import App, Installation, Minted, Repository, Token, User

# URLs in payloads built outside a request (e.g. `install`) before `base_url` is known
FALLBACK_URL = "http://localhost"


def iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


class GitHubEmulator:
    """Apps, installations, users and real bare git repositories under `base_dir`.

    `token_ttl` is the lifetime of installation tokens in seconds (GitHub: one hour);
    `clock` returns the current Unix time (tests move it to expire tokens).
    `base_url` is where the emulator is served (settable later): once known, repositories'
    `clone_url` is their smart-HTTP URL `{base_url}/{owner}/{repo}.git` (else a file:// URL).
    `webhook_url`/`webhook_secret` turn on outgoing webhooks (see `webhooks`, a `Hookshot`).
    """

    def __init__(
        self,
        base_dir: Path | None = None,
        *,
        token_ttl: float = 3600.0,
        clock: Callable[[], float] = time.time,
        base_url: str | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> None:
        if base_dir is None:
            base_dir = Path(tempfile.mkdtemp(prefix="github-emulator-"))
            # the repositories live as long as the emulator that made their directory
            self.close = weakref.finalize(self, shutil.rmtree, base_dir, ignore_errors=True)
        self.base_dir = base_dir
        self.token_ttl = token_ttl
        self.clock = clock
        self.lock = threading.RLock()
        self._ids = itertools.count(1000)
        self.users: dict[str, User] = {}
        self.apps: dict[int, App] = {}
        self.installations: dict[int, Installation] = {}
        self.tokens: dict[str, Token] = {}
        self.minted: list[Minted] = []  # every access-token request granted, in order
        self.repos: dict[str, Repository] = {}
        self.rate_used: dict[str, int] = {}
        self.faults = Faults()
        self.webhooks = Hookshot(webhook_url, webhook_secret)
        self.oauth = OAuthState()  # OAuth Apps, their grants and browser sessions
        self._base_url: str | None = None
        self.base_url = base_url

    @classmethod
    def with_defaults(cls) -> GitHubEmulator:
        """The standalone world: user `octocat` (personal token `ghp_octocat`), organization
        `octo-org` with repository `octo-org/hello` (README.md on `main`), and app `repocrew`
        installed on `octo-org` (installation id 1, app id 1); its private key is
        `emulator.apps[1].private_key_pem`."""
        emulator = cls()
        emulator.add_user("octocat", token="ghp_octocat")
        emulator.add_user("octo-org", type="Organization")
        emulator.create_repo(
            "octo-org/hello", files={"README.md": "# hello\n"}, collaborators={"octocat": "admin"}
        )
        app = emulator.add_app(slug="repocrew", name="repocrew", app_id=1)
        emulator.install(app, "octo-org", installation_id=1)
        return emulator

    @property
    def base_url(self) -> str | None:
        return self._base_url

    @base_url.setter
    def base_url(self, url: str | None) -> None:
        with self.lock:
            self._base_url = url.rstrip("/") if url else None
            for repo in self.repos.values():
                repo.http_url = self._http_url(repo)

    def _http_url(self, repo: Repository) -> str | None:
        return f"{self._base_url}/{repo.full_name}.git" if self._base_url else None

    def next_id(self) -> int:
        return next(self._ids)

    def now(self) -> str:
        return iso(self.clock())

    # seeding
    def add_user(
        self, login: str, *, type: str = "User", name: str | None = None, token: str | None = None
    ) -> User:
        """A user (or organization); with `token`, a personal access token for it."""
        user = User(
            id=self.next_id(),
            login=login,
            type=type,
            name=name or login,
            email=f"{login}@users.noreply.example.com",
        )
        self.users[login] = user
        if token:
            self.tokens[token] = Token(token=token, expires_at=None, user=user)
        return user

    def user(self, login: str) -> User:
        return self.users.get(login) or self.add_user(login)

    def add_app(
        self,
        *,
        slug: str = "repocrew",
        name: str = "repocrew",
        owner: str = "octo-org",
        public_key_pem: bytes | None = None,
        private_key_pem: bytes | None = None,
        app_id: int | None = None,
        permissions: dict[str, str] | None = None,
        events: list[str] | None = None,
    ) -> App:
        """A GitHub App verifying JWTs with `public_key_pem`, or with the public half of
        `private_key_pem`; given neither, a new RSA key pair (see `App.private_key_pem`)."""
        public_key_pem, private_pem = app_key_pair(public_key_pem, private_key_pem)
        app_id = app_id or self.next_id()
        bot = User(
            id=self.next_id(),
            login=f"{slug}[bot]",
            type="Bot",
            name=f"{slug}[bot]",
            email=f"{app_id}+{slug}[bot]@users.noreply.github.com",
        )
        app = App(
            id=app_id,
            slug=slug,
            name=name,
            owner=self.user(owner),
            public_key_pem=public_key_pem,
            private_key_pem=private_pem,
            bot=bot,
            permissions=dict(permissions or DEFAULT_PERMISSIONS),
            events=list(events or DEFAULT_EVENTS),
        )
        self.apps[app.id] = app
        return app

    def install(
        self,
        app: App,
        account: str,
        *,
        repositories: list[str] | None = None,
        permissions: dict[str, str] | None = None,
        installation_id: int | None = None,
        sender: str | None = None,
    ) -> Installation:
        """Install `app` on `account` for `repositories` (names; None: all of them), which
        sends the `installation` `created` webhook as `sender` (a login; default: `account`)."""
        ids = None
        if repositories is not None:
            ids = [self.repos[f"{account}/{name}"].id for name in repositories]
        installation = Installation(
            id=installation_id or self.next_id(),
            app=app,
            account=self.user(account),
            repository_ids=ids,
            permissions=dict(permissions or app.permissions),
            events=list(app.events),
            created_at=self.now(),
        )
        self.installations[installation.id] = installation
        if self.webhooks.enabled:
            repos = [r for r in self.repos.values() if installation.covers(r)]
            who = self.user(sender or account)
            payload = hooks.installation_created(self.api_url, installation, repos, who)
            self.webhooks.send("installation", payload, target_type="integration", target_id=app.id)
        return installation

    def installation_for(self, repo: Repository, app_id: int | None = None) -> Installation | None:
        """The installation (of app `app_id`, or of any app) that reaches `repo`."""
        return next(
            (
                i
                for i in self.installations.values()
                if app_id in (None, i.app.id) and i.covers(repo)
            ),
            None,
        )

    @property
    def api_url(self) -> str:
        return self._base_url or FALLBACK_URL

    def create_repo(
        self,
        full_name: str,
        *,
        files: dict[str, str | bytes] | None = None,
        default_branch: str = "main",
        private: bool = False,
        description: str | None = None,
        collaborators: dict[str, str] | None = None,
        first_commit_date: str | None = None,
    ) -> Repository:
        """A repository backed by a bare git repo; `files` make its first commit (dated now,
        or `first_commit_date`: a project's own history as of that day)."""
        owner_login, name = full_name.split("/")
        owner = self.user(owner_login)
        git = GitRepo.init_bare(
            self.base_dir / owner_login / f"{name}.git", default_branch=default_branch
        )
        repo = Repository(
            id=self.next_id(),
            owner=owner,
            name=name,
            git=git,
            default_branch=default_branch,
            created_at=self.now(),
            description=description,
            private=private,
        )
        repo.http_url = self._http_url(repo)
        repo.collaborators = {owner_login: "admin", **(collaborators or {})}
        for login in repo.collaborators:
            self.user(login)
        repo.labels.update(default_labels(self.next_id))
        if files:
            data = {path: (v.encode() if isinstance(v, str) else v) for path, v in files.items()}
            author = self.signature(owner, first_commit_date)
            sha = git.commit_files(parent=None, files=data, message="Initial commit", author=author)
            git.update_ref(f"refs/heads/{default_branch}", sha)
            repo.pushed_at = self.now()
        self.repos[full_name.lower()] = repo
        return repo

    def repo(self, full_name: str) -> Repository | None:
        return self.repos.get(full_name.lower())

    # tokens
    def issue_installation_token(
        self,
        installation: Installation,
        permissions: dict[str, str] | None = None,
        repository_ids: tuple[int, ...] | None = None,
    ) -> Token:
        """A token for the installation, limited to `permissions` and `repository_ids` when
        given (what the access-token request's fields ask for)."""
        token = Token(
            token=f"ghs_{secrets.token_urlsafe(27)[:36]}",
            expires_at=self.clock() + self.token_ttl,
            installation=installation,
            permissions=dict(permissions) if permissions else None,
            repository_ids=repository_ids,
        )
        self.tokens[token.token] = token
        return token

    def revoke_installation_tokens(self) -> int:
        """Every installation token issued so far stops working before its expiry (GitHub
        answers 401 "Bad credentials"), as after a revocation; returns how many there were."""
        with self.lock:
            revoked = [key for key, token in self.tokens.items() if token.installation]
            for key in revoked:
                del self.tokens[key]
            return len(revoked)

    def signature(self, user: User, date: str | None = None) -> Signature:
        email = user.email or f"{user.login}@example.com"
        return Signature(user.name or user.login, email, date or self.now())

    def user_for_email(self, email: str) -> User | None:
        candidates = [*self.users.values(), *(app.bot for app in self.apps.values())]
        return next((u for u in candidates if u.email == email), None)
