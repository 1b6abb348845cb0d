"""The one door the crew's words leave by on the forge: every title and text made safe first.

`SafeForge` wraps a forge (or a triggers' gateway): pull-request titles and bodies, comments,
reviews and their inline comments, check-run output, statuses and new issues lose hidden
characters, and their Markdown may link and show images only from the allowed hosts (the
repository's own host and the operator's `REPOCREW_MARKDOWN_ALLOWED_HOSTS`); anything else is
posted as code text (`bot.security.markdown`). Reads pass through unchanged.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.ports.forge import (
    Annotation,
    CheckRun,
    CloneSource,
    Comment,
    Forge,
    PostedReview,
    PullRequest,
    ReviewComment,
    ReviewDraft,
)
from bot.security.hosts import host_set, web_host_of_api
from bot.security.markdown import clean_text, sanitize_markdown
from bot.settings import Settings

MARKDOWN_FIELDS = ("summary", "text")


class SafeForge:
    """A `Forge` whose every write is sanitised; other attributes are the wrapped forge's."""

    def __init__(self, forge: Any, *, hosts: frozenset[str]) -> None:
        self.inner = forge
        self.hosts = hosts

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def markdown(self, text: str) -> str:
        return sanitize_markdown(text, self.hosts)

    # -- reads -----------------------------------------------------------------------------
    def clone_source(self, *, push: bool = False) -> CloneSource:
        return self.inner.clone_source(push=push)

    def is_own(self, author: str) -> bool:
        return self.inner.is_own(author)

    def list_comments(self, thread: int) -> list[Comment]:
        return self.inner.list_comments(thread)

    def get_pull(self, number: int) -> PullRequest:
        return self.inner.get_pull(number)

    def find_pull(self, head: str) -> PullRequest | None:
        return self.inner.find_pull(head)

    def list_reviews(self, number: int) -> list[PostedReview]:
        return self.inner.list_reviews(number)

    def list_checks(self, sha: str, name: str) -> list[CheckRun]:
        return self.inner.list_checks(sha, name)

    # -- writes ----------------------------------------------------------------------------
    def create_comment(self, thread: int, body: str, *, role: str) -> Comment:
        return self.inner.create_comment(thread, self.markdown(body), role=role)

    def update_comment(self, comment_id: int, body: str, *, role: str) -> Comment:
        return self.inner.update_comment(comment_id, self.markdown(body), role=role)

    def create_pull(
        self, *, head: str, base: str, title: str, body: str, draft: bool, role: str
    ) -> PullRequest:
        title, body = clean_text(title), self.markdown(body)
        return self.inner.create_pull(
            head=head, base=base, title=title, body=body, draft=draft, role=role
        )

    def update_pull(
        self, number: int, *, title: str, body: str, draft: bool | None = None
    ) -> PullRequest:
        title, body = clean_text(title), self.markdown(body)
        return self.inner.update_pull(number, title=title, body=body, draft=draft)

    def create_review(self, number: int, draft: ReviewDraft, *, role: str) -> PostedReview:
        comments = tuple(replace(c, body=self.markdown(c.body)) for c in draft.comments)
        safe = replace(draft, body=self.markdown(draft.body), comments=comments)
        return self.inner.create_review(number, safe, role=role)

    def reply_to_review_comment(
        self, number: int, comment_id: int, body: str, *, role: str
    ) -> ReviewComment:
        """An answer in a review thread, sanitised like every other post."""
        return self.inner.reply_to_review_comment(
            number, comment_id, self.markdown(body), role=role
        )

    def create_check(self, sha: str, name: str, *, role: str, **fields: Any) -> CheckRun:
        return self.inner.create_check(sha, name, role=role, **self._check(fields))

    def update_check(self, check_id: int, **fields: Any) -> CheckRun:
        return self.inner.update_check(check_id, **self._check(fields))

    def set_status(self, sha: str, *, context: str, state: str, description: str) -> None:
        description = clean_text(description)
        self.inner.set_status(sha, context=context, state=state, description=description)

    def create_issue(self, title: str, body: str = "", **options: Any) -> Any:
        """For `/crew task`: the new issue's title and body, sanitised like the crew's posts."""
        return self.inner.create_issue(clean_text(title), self.markdown(body), **options)

    def _check(self, fields: dict[str, Any]) -> dict[str, Any]:
        safe = dict(fields)
        if isinstance(safe.get("title"), str):
            safe["title"] = clean_text(safe["title"])
        for key in MARKDOWN_FIELDS:
            if isinstance(safe.get(key), str):
                safe[key] = self.markdown(safe[key])
        if safe.get("annotations"):
            safe["annotations"] = [_annotation(a) for a in safe["annotations"]]
        return safe


def _annotation(annotation: Any) -> Any:
    if isinstance(annotation, Annotation):
        return replace(annotation, message=clean_text(annotation.message))
    return annotation


def safe_forge(forge: Forge, hosts: frozenset[str]) -> Forge:
    """`forge` behind the sanitising door (a forge already behind it is returned as it is)."""
    return forge if isinstance(forge, SafeForge) else SafeForge(forge, hosts=hosts)


def allowed_hosts(settings: Settings, *, on_github: bool) -> frozenset[str]:
    """Where the crew's Markdown may link: the GitHub web host (for a run on GitHub) and the
    operator's `REPOCREW_MARKDOWN_ALLOWED_HOSTS`."""
    own = web_host_of_api(settings.github_api_url) if on_github else None
    try:
        extra = host_set(settings.markdown_hosts)
    except ValueError as error:
        raise ValueError(
            f"REPOCREW_MARKDOWN_ALLOWED_HOSTS: {error}; list host names, comma-separated"
        ) from None
    return extra | ({own} if own else set())
