"""Pure builders: webhook payloads, from the REST renderers cut to what webhooks carry.

Webhook objects are older than some REST fields (`user_view_type`, issue `type`, sub-issue
summaries, an app's `client_id`...) and GitHub leaves those out; a few differ in form (review
states are lower case, repositories carry `custom_properties`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from emulators.github import render, render_checks, render_work
from emulators.github.render import node_id, repo_url
from emulators.github.state import (
    App,
    CheckRun,
    Comment,
    Installation,
    Issue,
    Label,
    Pull,
    Repository,
    Review,
    ReviewComment,
    User,
)

ISSUE_REST_ONLY = ("type", "sub_issues_summary", "issue_dependencies_summary", "closed_by")
# render_work.pull wants these for its computed fields, which simple pull requests drop.
NO_STATS = {
    "commits": 0,
    "additions": 0,
    "deletions": 0,
    "changed_files": 0,
    "mergeable": None,
    "mergeable_state": "unknown",
}


def user(api: str, u: User | None) -> dict[str, Any] | None:
    body = render.user(api, u)
    if body is not None:
        del body["user_view_type"]
    return body


def organization(api: str, org: User) -> dict[str, Any]:
    url = f"{api}/orgs/{quote(org.login)}"
    return {
        "login": org.login,
        "id": org.id,
        "node_id": node_id("Organization", org.id),
        "url": url,
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events",
        "hooks_url": f"{url}/hooks",
        "issues_url": f"{url}/issues",
        "members_url": f"{url}/members{{/member}}",
        "public_members_url": f"{url}/public_members{{/member}}",
        "avatar_url": f"{api}/avatars/u/{org.id}?v=4",
        "description": None,
    }


def repository(api: str, r: Repository) -> dict[str, Any]:
    body = render.repository(api, r, full=False)
    return {**body, "owner": user(api, r.owner), "custom_properties": {}}


def app(api: str, a: App) -> dict[str, Any]:
    body = render.app(api, a)
    for key in ("client_id", "installations_count"):
        del body[key]
    return {**body, "owner": user(api, a.owner)}


def installation(api: str, i: Installation) -> dict[str, Any]:
    body = render.installation(api, i)
    del body["client_id"]
    return {**body, "account": user(api, i.account)}


def issue(api: str, r: Repository, i: Issue) -> dict[str, Any]:
    body = render_work.issue(api, r, i)
    for key in ISSUE_REST_ONLY:
        del body[key]
    return {**body, **_people(api, i.user, i.assignees)}


def issue_comment(api: str, r: Repository, c: Comment) -> dict[str, Any]:
    return {**render_work.issue_comment(api, r, c), "user": user(api, c.user)}


def pull_request(api: str, r: Repository, p: Pull, stats: dict[str, Any]) -> dict[str, Any]:
    body = render_work.pull(api, r, p, stats)
    side = {"user": user(api, r.owner), "repo": repository(api, r)}
    return {
        **body,
        **_people(api, p.issue.user, p.issue.assignees),
        "requested_reviewers": [user(api, u) for u in p.requested_reviewers],
        "merged_by": user(api, p.merged_by),
        "head": {**body["head"], **side},
        "base": {**body["base"], **side},
    }


def simple_pull_request(api: str, r: Repository, p: Pull) -> dict[str, Any]:
    """A pull request without what git computes (reviews and review comments carry these)."""
    body = pull_request(api, r, p, NO_STATS)
    return {k: v for k, v in body.items() if k not in render_work.PULL_COMPUTED}


def review(api: str, r: Repository, p: Pull, rv: Review) -> dict[str, Any]:
    body = render_work.review(api, r, p, rv)
    return {
        **body,
        "user": user(api, rv.user),
        "state": rv.state.lower(),
        "submitted_at": rv.submitted_at,
    }


def review_comment(api: str, r: Repository, p: Pull, c: ReviewComment) -> dict[str, Any]:
    body = render_work.review_comment(api, r, p, c)
    # file-level comments have no line; webhooks still give an original line number
    return {**body, "user": user(api, c.user), "original_line": c.line or 1}


def check_run(
    api: str,
    r: Repository,
    run: CheckRun,
    *,
    pulls: list[Pull],
    head_branch: str | None,
) -> dict[str, Any]:
    """A check run with its suite and the open pull requests whose head it checks."""
    body = render_checks.check_run(api, r, run, app(api, run.app) if run.app else None)
    linked = [_check_pull(api, r, p) for p in pulls]
    suite_status = run.status if run.status in ("queued", "completed") else "in_progress"
    suite = {
        "id": run.check_suite_id,
        "node_id": node_id("CheckSuite", run.check_suite_id),
        "head_branch": head_branch,
        "head_sha": run.head_sha,
        "status": suite_status,
        "conclusion": run.conclusion if run.conclusion != "skipped" else "neutral",
        "url": f"{repo_url(api, r)}/check-suites/{run.check_suite_id}",
        "before": None,
        "after": run.head_sha,
        "pull_requests": linked,
        "app": body["app"],
        "created_at": run.started_at,
        "updated_at": run.completed_at or run.started_at,
    }
    return {**body, "check_suite": suite, "pull_requests": linked}


def _check_pull(api: str, r: Repository, p: Pull) -> dict[str, Any]:
    repo_ref = {"id": r.id, "url": repo_url(api, r), "name": r.name}
    return {
        "url": f"{repo_url(api, r)}/pulls/{p.number}",
        "id": p.id,
        "number": p.number,
        "head": {"ref": p.head_ref, "sha": p.head_sha, "repo": repo_ref},
        "base": {"ref": p.base_ref, "sha": p.base_sha, "repo": repo_ref},
    }


def label(api: str, r: Repository, lb: Label) -> dict[str, Any]:
    return render.label(api, r, lb)


def _people(api: str, author: User, assignees: list[User]) -> dict[str, Any]:
    return {
        "user": user(api, author),
        "assignee": user(api, assignees[0]) if assignees else None,
        "assignees": [user(api, a) for a in assignees],
    }


def envelope(
    api: str,
    action: str,
    fields: dict[str, Any],
    *,
    repo: Repository,
    sender: User,
    installation: Installation | None,
) -> dict[str, Any]:
    """The payload of a repository event: `fields` (the event's own) framed as GitHub does."""
    payload: dict[str, Any] = {"action": action, **fields}
    payload["repository"] = repository(api, repo)
    if repo.owner.type == "Organization":
        payload["organization"] = organization(api, repo.owner)
    payload["sender"] = user(api, sender)
    if installation is not None:
        payload["installation"] = {
            "id": installation.id,
            "node_id": node_id("Integration::Installation", installation.id),
        }
    return payload


def installation_created(
    api: str, i: Installation, repos: list[Repository], sender: User
) -> dict[str, Any]:
    return {
        "action": "created",
        "installation": installation(api, i),
        "repositories": [
            {
                "id": r.id,
                "node_id": node_id("Repository", r.id),
                "name": r.name,
                "full_name": r.full_name,
                "private": r.private,
            }
            for r in repos
        ],
        "sender": user(api, sender),
    }


def changes(before: dict[str, str | None], after: dict[str, str | None]) -> dict[str, Any]:
    """The `changes` of an `edited` event: the previous value of each field that changed."""
    return {name: {"from": old or ""} for name, old in before.items() if old != after[name]}
