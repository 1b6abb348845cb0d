"""The ports the crew works through: where it posts (a forge) and how it asks the model.

A forge is GitHub in production (`bot/github`) and a directory on disk for local runs
(`bot/local_forge.py`); both behave like GitHub: posts are appended, never keyed, so the
crew finds its earlier posts by hidden markers and edits them instead of posting twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class CloneSource:
    """Where the workspace clones from; the token is used per command, never written down."""

    url: str
    token: str | None = None
    default_branch: str = "main"


@dataclass(frozen=True)
class Comment:
    id: int
    body: str
    author: str = ""


@dataclass(frozen=True)
class PullRequest:
    number: int
    head: str
    base: str
    title: str
    body: str
    draft: bool
    url: str = ""
    state: str = "open"
    head_repo: str = ""  # `owner/name` the head branch lives in ("" when unknown or gone)
    from_fork: bool = False  # the head is in another repository: the crew never pushes there


@dataclass(frozen=True)
class PullMerge:
    """Who merged a pull request, as GitHub names them (`user_type`: "User", "Bot", ...)."""

    login: str
    user_type: str


@dataclass(frozen=True)
class InlineComment:
    path: str
    line: int
    body: str


@dataclass(frozen=True)
class PostedReview:
    id: int
    body: str
    event: str
    commit_sha: str = ""
    comments: tuple[InlineComment, ...] = ()
    author: str = ""


@dataclass(frozen=True)
class ReviewComment:
    """A comment in a review thread on a pull request's diff. `in_reply_to` names the thread's
    first comment (GitHub threads every reply under it); None for that first comment."""

    id: int
    body: str
    author: str
    path: str
    line: int | None
    in_reply_to: int | None = None
    review_id: int | None = None
    commit_sha: str = ""
    diff_hunk: str = ""


@dataclass(frozen=True)
class ReviewDraft:
    """A review to submit: its body, verdict (COMMENT, APPROVE, REQUEST_CHANGES), the commit it
    reviews, and its inline comments."""

    body: str
    event: str
    commit_sha: str
    comments: tuple[InlineComment, ...] = ()


@dataclass(frozen=True)
class Annotation:
    path: str
    line: int
    message: str
    level: str = "failure"


@dataclass(frozen=True)
class CheckRun:
    id: int
    name: str
    head_sha: str
    status: str
    conclusion: str | None = None
    title: str = ""
    summary: str = ""
    text: str = ""
    annotations: tuple[Annotation, ...] = field(default_factory=tuple)


class Forge(Protocol):
    """What the crew needs from a code host. `role` names the persona a post is made as."""

    def clone_source(self, *, push: bool = False) -> CloneSource:
        """Where to clone from; `push`: with a token that may push (others may only read)."""
        ...

    def is_own(self, author: str) -> bool:
        """Whether `author` is the crew (the App, or a role's own App): a hidden marker counts
        only in what the crew wrote, never in a reader's comment that copies it."""
        ...

    def list_comments(self, thread: int) -> list[Comment]: ...

    def create_comment(self, thread: int, body: str, *, role: str) -> Comment: ...

    def update_comment(self, comment_id: int, body: str, *, role: str) -> Comment: ...

    def get_pull(self, number: int) -> PullRequest: ...

    def find_pull(self, head: str) -> PullRequest | None: ...

    def create_pull(
        self, *, head: str, base: str, title: str, body: str, draft: bool, role: str
    ) -> PullRequest: ...

    def update_pull(
        self, number: int, *, title: str, body: str, draft: bool | None = None
    ) -> PullRequest: ...

    def list_reviews(self, number: int) -> list[PostedReview]: ...

    def create_review(self, number: int, draft: ReviewDraft, *, role: str) -> PostedReview: ...

    def resolve_threads(self, number: int, markers: Sequence[str]) -> int:
        """Resolve the crew's open review threads whose first comment has one of `markers`."""
        ...

    def list_checks(self, sha: str, name: str) -> list[CheckRun]: ...

    def create_check(self, sha: str, name: str, *, role: str, **fields: Any) -> CheckRun: ...

    def update_check(self, check_id: int, **fields: Any) -> CheckRun: ...

    def set_status(self, sha: str, *, context: str, state: str, description: str) -> None: ...


class ReviewThreads(Protocol):
    """A forge's review threads (GitHub's): the conversations on a pull request's lines."""

    def is_own(self, author: str) -> bool: ...

    def list_review_comments(self, number: int) -> list[ReviewComment]: ...

    def reply_to_review_comment(
        self, number: int, comment_id: int, body: str, *, role: str
    ) -> ReviewComment: ...

    def read_text_at(self, path: str, ref: str) -> str | None:
        """A file as it is at commit `ref`, or None when it is not there."""
        ...


class AppIdentity(Protocol):
    """A role's GitHub identity, as far as its own App goes (the roster's `GitHubIdentity`)."""

    @property
    def app_id(self) -> int | None: ...

    @property
    def private_key_path(self) -> str | None: ...


class RepoGateway(Protocol):
    """What the triggers need from the code host for one repository: who may steer, the
    repository's own config file, and replies on its issues."""

    def permission_of(self, login: str) -> str: ...

    def bot_login(self, identity: AppIdentity | None = None) -> str:
        """The bot user of the crew's App (`<slug>[bot]`), or of the role App `identity` names."""
        ...

    def read_text(self, path: str) -> str | None: ...

    def is_own(self, author: str) -> bool: ...

    def list_comments(self, thread: int) -> list[Comment]: ...

    def create_comment(self, thread: int, body: str, *, role: str) -> Comment: ...


class IssueGateway(RepoGateway, Protocol):
    """A gateway that also opens issues (`/crew task` in Slack)."""

    def create_issue(
        self, title: str, body: str = "", *, labels: Any = (), role: str | None = None
    ) -> Any: ...
