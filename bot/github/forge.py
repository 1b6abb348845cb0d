"""The crew's forge on GitHub: comments, pull requests, reviews, checks and statuses of one repo.

It behaves like `LocalForge` (posts are appended, the crew finds its own by markers), acting as
the App's installation, or as a role's own App when the role has one. Every write holds the
acting installation's lock (see `client.py`); each call's token is minted for this repository
and the access the call needs (`access.py`). PyGithub is synchronous: callers on an event loop
run these methods in a thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import github
from github import UnknownObjectException
from github.CheckRun import CheckRun as GhCheckRun
from github.IssueComment import IssueComment
from github.Repository import Repository

from bot.github import convert
from bot.github.access import CHECKS, COMMENT, PULL, PUSH, READ, STATUSES, Access
from bot.github.client import GitHubApp, GitHubApps, InstallationClient
from bot.github.issues import IssuesMixin
from bot.github.refused_tokens import forgets_refused_token, renews_refused_token
from bot.github.review_replies import GitHubReviewReplies
from bot.github.review_threads import ReviewThreadsMixin
from bot.ports.forge import (
    CheckRun,
    CloneSource,
    Comment,
    PostedReview,
    PullMerge,
    PullRequest,
    ReviewDraft,
)
from bot.roster.models import Role


class GitHubForge(IssuesMixin, ReviewThreadsMixin, GitHubReviewReplies):
    """The `Forge` of one repository (`owner/name`) for one installation of the main App.

    `role_clients` maps a role key to the client of that role's own App; other roles post as
    the main App.
    """

    def __init__(
        self,
        repo_full_name: str,
        *,
        installation_id: int,
        clients: GitHubApp,
        role_clients: Mapping[str, InstallationClient] | None = None,
    ) -> None:
        self.repo_full_name = repo_full_name
        self.main = clients.installation(installation_id)
        self.role_clients = dict(role_clients or {})
        self._repo_info: tuple[str, str] | None = None  # clone URL, default branch
        self._check_apps: dict[int, int] = {}  # check run id → id of the App that made it

    @classmethod
    def for_installation(
        cls,
        apps: GitHubApps,
        repo_full_name: str,
        *,
        installation_id: int,
        roles: Iterable[Role] = (),
    ) -> GitHubForge:
        """The forge for a run: the main App's installation, and the `roles`' own Apps."""
        return cls(
            repo_full_name,
            installation_id=installation_id,
            clients=apps.main,
            role_clients=apps.role_clients(roles, repo_full_name),
        )

    def client_for(self, role: str | None) -> InstallationClient:
        return self.role_clients.get(role or "", self.main)

    def is_own(self, author: str) -> bool:
        """Whether `author` is the App or a role's own App (whose markers alone count)."""
        clients = (self.main, *self.role_clients.values())
        return author.lower() in {client.bot_login.lower() for client in clients}

    def forget_tokens(self) -> None:
        """Mint new installation tokens on the next requests (GitHub refused a cached one)."""
        for client in {id(c): c for c in (self.main, *self.role_clients.values())}.values():
            client.forget_token()

    def _repo(self, client: InstallationClient | None = None, access: Access = READ) -> Repository:
        """The repository through a token minted for it alone, with `access` only."""
        return (client or self.main).repo(self.repo_full_name, access)

    @property
    def default_branch(self) -> str:
        return self._info()[1]

    def _info(self) -> tuple[str, str]:
        if self._repo_info is None:
            repo = self._repo()
            self._repo_info = (repo.clone_url, repo.default_branch)
        return self._repo_info

    @renews_refused_token
    def clone_source(self, *, push: bool = False) -> CloneSource:
        """Where to clone from, with a token that may read the repository's code (`push`: a
        token that may push to it, for the push alone)."""
        # git cannot say its token was refused, so a fresh read of the repository proves the
        # read token first (and a refused one is renewed by the decorator).
        self._repo_info = None
        url, branch = self._info()
        token = self.main.token(self.repo_full_name, PUSH if push else READ)
        return CloneSource(url=url, token=token, default_branch=branch)

    @renews_refused_token
    def list_comments(self, thread: int) -> list[Comment]:
        issue = self._repo(access=COMMENT).get_issue(thread)
        return [convert.comment(c) for c in issue.get_comments()]

    @renews_refused_token
    def create_comment(self, thread: int, body: str, *, role: str) -> Comment:
        client = self.client_for(role)
        issue = self._repo(client, COMMENT).get_issue(thread)
        with client.writing():
            return convert.comment(issue.create_comment(body))

    @renews_refused_token
    def update_comment(self, comment_id: int, body: str, *, role: str) -> Comment:
        # Only a comment's author may edit it: the role that posted it edits it.
        client = self.client_for(role)
        repo = self._repo(client, COMMENT)
        found = IssueComment(repo.requester, url=f"{repo.url}/issues/comments/{comment_id}")
        with client.writing():
            found.edit(body)
        return convert.comment(found)

    @renews_refused_token
    def read_text(self, path: str) -> str | None:
        """A file of the default branch (e.g. `.repocrew.toml`), or None when there is none."""
        try:
            found = self._repo().get_contents(path, ref=self.default_branch)
        except UnknownObjectException:
            return None
        if isinstance(found, list) or found.type != "file":
            return None
        return found.decoded_content.decode("utf-8", errors="replace")

    @renews_refused_token
    def get_pull(self, number: int) -> PullRequest:
        return convert.pull(self._repo(access=PULL).get_pull(number))

    @renews_refused_token
    def pull_merge(self, number: int) -> PullMerge | None:
        """Who merged pull request `number` (None: not merged): asked when a webhook may
        have been lost."""
        return convert.merge(self._repo(access=PULL).get_pull(number))

    @renews_refused_token
    def find_pull(self, head: str) -> PullRequest | None:
        owner = self.repo_full_name.split("/", 1)[0]
        for found in self._repo(access=PULL).get_pulls(state="open", head=f"{owner}:{head}"):
            return convert.pull(found)
        return None

    @renews_refused_token
    def create_pull(
        self, *, head: str, base: str, title: str, body: str, draft: bool, role: str
    ) -> PullRequest:
        client = self.client_for(role)
        with client.writing():
            created = self._repo(client, PULL).create_pull(
                base=base, head=head, title=title, body=body, draft=draft
            )
        return convert.pull(created)

    @renews_refused_token
    def update_pull(
        self, number: int, *, title: str, body: str, draft: bool | None = None
    ) -> PullRequest:
        found = self._repo(access=PULL).get_pull(number)
        with self.main.writing():
            found.edit(title=title, body=body)
            # The REST API cannot change `draft`; GitHub does it with GraphQL mutations only.
            if draft is not None and bool(found.draft) != draft:
                if draft:
                    found.convert_to_draft()
                else:
                    found.mark_ready_for_review()
        return convert.pull(found)

    @renews_refused_token
    def list_reviews(self, number: int) -> list[PostedReview]:
        found = self._repo(access=PULL).get_pull(number)
        reviews = list(found.get_reviews())
        comments = list(found.get_review_comments()) if reviews else []
        return [convert.review(r, comments) for r in reviews]

    @renews_refused_token
    def create_review(self, number: int, draft: ReviewDraft, *, role: str) -> PostedReview:
        client = self.client_for(role)
        repo = self._repo(client, PULL)
        body, event, commit_sha, comments = (
            draft.body,
            draft.event,
            draft.commit_sha,
            draft.comments,
        )
        found, commit = repo.get_pull(number), repo.get_commit(commit_sha)
        inline = [convert.inline(c) for c in comments]
        with client.writing():
            try:
                posted = found.create_review(commit=commit, body=body, event=event, comments=inline)
            except github.GithubException as error:
                # GitHub refuses to let an App approve or request changes on a pull request
                # it opened itself; the verdict stays in the body, posted as a comment.
                if error.status != 422 or "your own pull request" not in str(error.data):
                    raise
                event = "COMMENT"
                posted = found.create_review(commit=commit, body=body, event=event, comments=inline)
        return PostedReview(
            id=posted.id,
            body=posted.body or body,
            event=event,
            commit_sha=posted.commit_id or commit_sha,
            comments=tuple(comments),
            author=client.bot_login,
        )

    @renews_refused_token
    def list_checks(self, sha: str, name: str) -> list[CheckRun]:
        runs = list(self._repo(access=CHECKS).get_commit(sha).get_check_runs(check_name=name))
        for run in runs:
            self._check_apps[run.id] = run.app.id
        return [self._check(run) for run in runs]

    @forgets_refused_token
    def create_check(self, sha: str, name: str, *, role: str, **fields: Any) -> CheckRun:
        client = self.client_for(role)
        first, *rest = convert.check_requests(fields, current={"title": name})
        with client.writing():
            run = self._repo(client, CHECKS).create_check_run(name=name, head_sha=sha, **first)
            for request in rest:
                run.edit(**request)
        self._check_apps[run.id] = client.app_id
        return self._check(run)

    @renews_refused_token
    def update_check(self, check_id: int, **fields: Any) -> CheckRun:
        # Only the App that created a check run may update it.
        client = self._check_owner(check_id)
        run = self._repo(client, CHECKS).get_check_run(check_id)
        current: dict[str, str] = {}
        if any(k in fields for k in convert.OUTPUT_FIELDS):
            output = run.output  # reading it fetches the run: its title and summary are kept
            current = {"title": output.title, "summary": output.summary, "text": output.text}
        requests = convert.check_requests(fields, current=current)
        with client.writing():
            for request in requests:
                run.edit(**request)
        return self._check(run)

    def _check_owner(self, check_id: int) -> InstallationClient:
        if check_id not in self._check_apps:
            self._check_apps[check_id] = self._repo(access=CHECKS).get_check_run(check_id).app.id
        app_id = self._check_apps[check_id]
        owners = [c for c in self.role_clients.values() if c.app_id == app_id]
        return owners[0] if owners else self.main

    @staticmethod
    def _check(run: GhCheckRun) -> CheckRun:
        notes = run.get_annotations() if run.output.annotations_count else ()
        return convert.check(run, notes)

    @renews_refused_token
    def set_status(self, sha: str, *, context: str, state: str, description: str) -> None:
        with self.main.writing():
            self._repo(access=STATUSES).get_commit(sha).create_status(
                state=state, context=context, description=convert.status_description(description)
            )

    @renews_refused_token
    def permission_of(self, login: str) -> str:
        """`login`'s permission here: admin, maintain, write, triage, read or none."""
        return self.main.permission_of(self.repo_full_name, login)
