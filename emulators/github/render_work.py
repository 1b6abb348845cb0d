"""Pure builders: issues, comments, pull requests and reviews as GitHub's JSON."""

from __future__ import annotations

from typing import Any

from emulators.github.render import label, node_id, repo_url, repository, user
from emulators.github.state import (
    Comment,
    Issue,
    Pull,
    Repository,
    Review,
    ReviewComment,
    User,
)


def reactions(url: str) -> dict[str, Any]:
    counts = dict.fromkeys(
        ["+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes"], 0
    )
    return {"url": f"{url}/reactions", "total_count": 0, **counts}


def association(r: Repository, u: User | None) -> str:
    if u is None:
        return "NONE"
    if u.id == r.owner.id:
        return "OWNER"
    return "COLLABORATOR" if u.login in r.collaborators else "NONE"


def issue(api: str, r: Repository, i: Issue) -> dict[str, Any]:
    url = f"{repo_url(api, r)}/issues/{i.number}"
    body: dict[str, Any] = {
        "url": url,
        "repository_url": repo_url(api, r),
        "labels_url": f"{url}/labels{{/name}}",
        "comments_url": f"{url}/comments",
        "events_url": f"{url}/events",
        "html_url": f"{api}/{r.full_name}/issues/{i.number}",
        "id": i.id,
        "node_id": node_id("Issue", i.id),
        "number": i.number,
        "title": i.title,
        "user": user(api, i.user),
        "labels": [label(api, r, lb) for lb in i.labels],
        "state": i.state,
        "locked": i.locked,
        "assignee": user(api, i.assignees[0]) if i.assignees else None,
        "assignees": [user(api, a) for a in i.assignees],
        "milestone": None,
        "comments": len(i.comments),
        "created_at": i.created_at,
        "updated_at": i.updated_at,
        "closed_at": i.closed_at,
        "author_association": association(r, i.user),
        "type": None,
        "active_lock_reason": None,
        "sub_issues_summary": {"total": 0, "completed": 0, "percent_completed": 0},
        "issue_dependencies_summary": {
            "blocked_by": 0,
            "total_blocked_by": 0,
            "blocking": 0,
            "total_blocking": 0,
        },
        "body": i.body,
        "closed_by": user(api, i.closed_by),
        "reactions": reactions(url),
        "timeline_url": f"{url}/timeline",
        "performed_via_github_app": None,
        "state_reason": i.state_reason,
    }
    if i.is_pull:
        pull_html = f"{api}/{r.full_name}/pull/{i.number}"
        body["draft"] = r.pulls[i.number].draft
        body["pull_request"] = {
            "url": f"{repo_url(api, r)}/pulls/{i.number}",
            "html_url": pull_html,
            "diff_url": f"{pull_html}.diff",
            "patch_url": f"{pull_html}.patch",
            "merged_at": r.pulls[i.number].merged_at,
        }
    return body


def issue_comment(api: str, r: Repository, c: Comment) -> dict[str, Any]:
    url = f"{repo_url(api, r)}/issues/comments/{c.id}"
    return {
        "url": url,
        "html_url": f"{api}/{r.full_name}/issues/{c.issue_number}#issuecomment-{c.id}",
        "issue_url": f"{repo_url(api, r)}/issues/{c.issue_number}",
        "id": c.id,
        "node_id": node_id("IssueComment", c.id),
        "user": user(api, c.user),
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "author_association": association(r, c.user),
        "body": c.body,
        "reactions": reactions(url),
        "performed_via_github_app": None,
    }


def pull_side(api: str, r: Repository, ref: str, sha: str) -> dict[str, Any]:
    return {
        "label": f"{r.owner.login}:{ref}",
        "ref": ref,
        "sha": sha,
        "user": user(api, r.owner),
        "repo": repository(api, r, full=False),
    }


# What git and the merge machinery compute for one pull request; lists and webhook
# `simple-pull-request`s leave these out.
PULL_COMPUTED = (
    "merged",
    "mergeable",
    "rebaseable",
    "mergeable_state",
    "merged_by",
    "comments",
    "review_comments",
    "maintainer_can_modify",
    "commits",
    "additions",
    "deletions",
    "changed_files",
)


def pull(api: str, r: Repository, p: Pull, stats: dict[str, Any]) -> dict[str, Any]:
    """A pull request; `stats` holds what git computes: commits, additions, mergeable..."""
    i = p.issue
    links = _pull_links(api, r, p)
    return {
        "url": links["self"],
        "id": p.id,
        "node_id": node_id("PullRequest", p.id),
        "html_url": links["html"],
        "diff_url": f"{links['html']}.diff",
        "patch_url": f"{links['html']}.patch",
        "issue_url": links["issue"],
        "number": i.number,
        "state": i.state,
        "locked": i.locked,
        "title": i.title,
        "user": user(api, i.user),
        "body": i.body,
        "created_at": i.created_at,
        "updated_at": i.updated_at,
        "closed_at": i.closed_at,
        "merged_at": p.merged_at,
        "merge_commit_sha": p.merge_commit_sha,
        "assignee": user(api, i.assignees[0]) if i.assignees else None,
        "assignees": [user(api, a) for a in i.assignees],
        "requested_reviewers": [user(api, u) for u in p.requested_reviewers],
        "requested_teams": [],
        "labels": [label(api, r, lb) for lb in i.labels],
        "milestone": None,
        "draft": p.draft,
        "commits_url": links["commits"],
        "review_comments_url": links["review_comments"],
        "review_comment_url": links["review_comment"],
        "comments_url": links["comments"],
        "statuses_url": links["statuses"],
        "head": pull_side(api, p.head_repo or r, p.head_ref, p.head_sha),
        "base": pull_side(api, r, p.base_ref, p.base_sha),
        "_links": {name: {"href": href} for name, href in links.items()},
        "author_association": association(r, i.user),
        "auto_merge": None,
        "active_lock_reason": None,
        **_pull_computed(api, p, stats),
    }


def _pull_links(api: str, r: Repository, p: Pull) -> dict[str, str]:
    """A pull request's `_links`, whose URLs its own `*_url` fields repeat."""
    url = f"{repo_url(api, r)}/pulls/{p.number}"
    issue_url = f"{repo_url(api, r)}/issues/{p.number}"
    return {
        "self": url,
        "html": f"{api}/{r.full_name}/pull/{p.number}",
        "issue": issue_url,
        "comments": f"{issue_url}/comments",
        "review_comments": f"{url}/comments",
        "review_comment": f"{repo_url(api, r)}/pulls/comments{{/number}}",
        "commits": f"{url}/commits",
        "statuses": f"{repo_url(api, r)}/statuses/{p.head_sha}",
    }


def _pull_computed(api: str, p: Pull, stats: dict[str, Any]) -> dict[str, Any]:
    """The `PULL_COMPUTED` fields, in GitHub's order."""
    return {
        "merged": p.merged,
        "mergeable": stats["mergeable"],
        "rebaseable": stats["mergeable"],
        "mergeable_state": stats["mergeable_state"],
        "merged_by": user(api, p.merged_by),
        "comments": len(p.issue.comments),
        "review_comments": len(p.review_comments),
        "maintainer_can_modify": p.maintainer_can_modify,
        "commits": stats["commits"],
        "additions": stats["additions"],
        "deletions": stats["deletions"],
        "changed_files": stats["changed_files"],
    }


def review(api: str, r: Repository, p: Pull, rv: Review) -> dict[str, Any]:
    pull_url = f"{repo_url(api, r)}/pulls/{p.number}"
    html = f"{api}/{r.full_name}/pull/{p.number}#pullrequestreview-{rv.id}"
    body = {
        "id": rv.id,
        "node_id": node_id("PullRequestReview", rv.id),
        "user": user(api, rv.user),
        "body": rv.body,
        "state": rv.state,
        "html_url": html,
        "pull_request_url": pull_url,
        "author_association": association(r, rv.user),
        "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}},
        "commit_id": rv.commit_id,
    }
    if rv.submitted_at:
        body["submitted_at"] = rv.submitted_at
    return body


def review_comment(api: str, r: Repository, p: Pull, c: ReviewComment) -> dict[str, Any]:
    url = f"{repo_url(api, r)}/pulls/comments/{c.id}"
    pull_url = f"{repo_url(api, r)}/pulls/{p.number}"
    html = f"{api}/{r.full_name}/pull/{p.number}#discussion_r{c.id}"
    body = {
        "url": url,
        "pull_request_review_id": c.review_id,
        "id": c.id,
        "node_id": node_id("PullRequestReviewComment", c.id),
        "diff_hunk": c.diff_hunk,
        "path": c.path,
        "commit_id": c.commit_id,
        "original_commit_id": c.commit_id,
        "user": user(api, c.user),
        "body": c.body,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "html_url": html,
        "pull_request_url": pull_url,
        "author_association": association(r, c.user),
        "_links": {
            "self": {"href": url},
            "html": {"href": html},
            "pull_request": {"href": pull_url},
        },
        "reactions": reactions(url),
        "start_line": c.start_line,
        "original_start_line": c.start_line,
        "start_side": c.start_side,
        "line": c.line,
        "original_line": c.line,
        "side": c.side,
        "original_position": c.line or 1,
        "position": c.line or 1,
        "subject_type": "line" if c.line else "file",
    }
    if c.in_reply_to_id:
        body["in_reply_to_id"] = c.in_reply_to_id
    return body
