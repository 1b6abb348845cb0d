"""The emulator's world as plain data: users, apps, installations, repositories, records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from emulators.github.gitrepo import GitRepo


@dataclass
class User:
    id: int
    login: str
    type: str = "User"  # User, Organization, Bot
    name: str | None = None
    email: str | None = None
    created_at: str = "2020-01-01T00:00:00Z"


@dataclass
class App:
    id: int
    slug: str
    name: str
    owner: User
    public_key_pem: bytes
    private_key_pem: bytes | None
    bot: User
    permissions: dict[str, str] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    created_at: str = "2020-01-01T00:00:00Z"
    manifest: ManifestCode | None = None  # set for an App made by the manifest flow


@dataclass
class ManifestCode:
    """What the manifest flow hands over once, for an hour, in exchange for its `code`."""

    code: str
    issued_at: float  # emulator clock
    client_secret: str
    webhook_secret: str | None
    description: str | None = None
    external_url: str = ""
    used: bool = False


@dataclass
class Installation:
    id: int
    app: App
    account: User
    repository_ids: list[int] | None  # None: all repositories of the account
    permissions: dict[str, str]
    events: list[str] = field(default_factory=list)
    created_at: str = "2020-01-01T00:00:00Z"

    @property
    def repository_selection(self) -> str:
        return "all" if self.repository_ids is None else "selected"

    def covers(self, repo: Repository) -> bool:
        if self.account.id != repo.owner.id:
            return False
        return self.repository_ids is None or repo.id in self.repository_ids


@dataclass
class Token:
    token: str
    expires_at: float | None
    installation: Installation | None = None
    user: User | None = None
    permissions: dict[str, str] | None = None  # a subset asked for when the token was made
    repository_ids: tuple[int, ...] | None = None  # the repositories asked for (None: all)


@dataclass(frozen=True)
class Minted:
    """One granted access-token request: what it asked for (None: all the installation has)."""

    installation_id: int
    repositories: tuple[str, ...] | None  # full names
    permissions: dict[str, str] | None
    token: str = field(repr=False)


@dataclass
class Label:
    id: int
    name: str
    color: str
    description: str | None = None
    default: bool = False


@dataclass
class Comment:
    id: int
    issue_number: int
    user: User
    body: str
    created_at: str
    updated_at: str


@dataclass
class Issue:
    id: int
    number: int
    title: str
    body: str | None
    user: User
    created_at: str
    updated_at: str
    state: str = "open"
    state_reason: str | None = None
    closed_at: str | None = None
    closed_by: User | None = None
    labels: list[Label] = field(default_factory=list)
    assignees: list[User] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    locked: bool = False
    is_pull: bool = False


@dataclass
class ReviewComment:
    id: int
    review_id: int | None
    user: User
    body: str
    path: str
    line: int | None
    side: str
    start_line: int | None
    start_side: str | None
    commit_id: str
    diff_hunk: str
    created_at: str
    updated_at: str
    in_reply_to_id: int | None = None


@dataclass
class Review:
    id: int
    user: User
    body: str
    state: str  # COMMENTED, APPROVED, CHANGES_REQUESTED, PENDING
    commit_id: str
    submitted_at: str | None


@dataclass
class Pull:
    issue: Issue
    id: int
    head_ref: str
    base_ref: str
    head_sha: str  # remembered so a deleted head branch still shows its last commit
    base_sha: str
    draft: bool = False
    maintainer_can_modify: bool = False
    merged: bool = False
    merged_at: str | None = None
    merged_by: User | None = None
    merge_commit_sha: str | None = None
    reviews: list[Review] = field(default_factory=list)
    review_comments: list[ReviewComment] = field(default_factory=list)
    requested_reviewers: list[User] = field(default_factory=list)
    head_repo: Repository | None = None  # a fork the head branch lives in (None: this one)
    # Review threads resolved (GraphQL resolveReviewThread), by their first comment's id.
    resolved_threads: dict[int, User | None] = field(default_factory=dict)

    @property
    def number(self) -> int:
        return self.issue.number


@dataclass
class CheckRun:
    id: int
    name: str
    head_sha: str
    app: App | None
    status: str = "queued"
    conclusion: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    external_id: str = ""
    details_url: str | None = None
    output: dict[str, Any] = field(default_factory=dict)
    annotations: list[dict[str, Any]] = field(default_factory=list)
    check_suite_id: int = 0


@dataclass
class Status:
    id: int
    sha: str
    state: str
    context: str
    description: str | None
    target_url: str | None
    creator: User
    created_at: str
    updated_at: str


@dataclass
class Repository:
    id: int
    owner: User
    name: str
    git: GitRepo
    default_branch: str
    created_at: str
    description: str | None = None
    private: bool = False
    labels: dict[str, Label] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)
    pulls: dict[int, Pull] = field(default_factory=dict)
    check_runs: dict[int, CheckRun] = field(default_factory=dict)
    statuses: list[Status] = field(default_factory=list)
    collaborators: dict[str, str] = field(default_factory=dict)  # login -> admin/write/read
    pushed_at: str | None = None
    http_url: str | None = None  # the smart-HTTP clone URL, once the emulator knows its own
    parent: Repository | None = None  # the repository this one is a fork of

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"

    def next_number(self) -> int:
        return max(self.issues, default=0) + 1

    def label(self, name: str) -> Label | None:
        return next((lb for lb in self.labels.values() if lb.name.lower() == name.lower()), None)
