"""Pure builders: users, repositories, apps, installations and labels as GitHub's JSON."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from emulators.github.state import App, Installation, Label, Repository, User

DOCS = "https://docs.github.com/rest"


def node_id(kind: str, number: int) -> str:
    return base64.b64encode(f"0{len(kind)}:{kind}{number}".encode()).decode()


def user(api: str, u: User | None) -> dict[str, Any] | None:
    if u is None:
        return None
    url = f"{api}/users/{quote(u.login)}"
    return {
        "login": u.login,
        "id": u.id,
        "node_id": node_id(u.type, u.id),
        "avatar_url": f"{api}/avatars/u/{u.id}?v=4",
        "gravatar_id": "",
        "url": url,
        "html_url": f"{api}/{quote(u.login)}",
        "followers_url": f"{url}/followers",
        "following_url": f"{url}/following{{/other_user}}",
        "gists_url": f"{url}/gists{{/gist_id}}",
        "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{url}/subscriptions",
        "organizations_url": f"{url}/orgs",
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events{{/privacy}}",
        "received_events_url": f"{url}/received_events",
        "type": u.type,
        "user_view_type": "public",
        "site_admin": False,
    }


REPO_URL_TEMPLATES = {
    "forks_url": "/forks",
    "keys_url": "/keys{/key_id}",
    "collaborators_url": "/collaborators{/collaborator}",
    "teams_url": "/teams",
    "hooks_url": "/hooks",
    "issue_events_url": "/issues/events{/number}",
    "events_url": "/events",
    "assignees_url": "/assignees{/user}",
    "branches_url": "/branches{/branch}",
    "tags_url": "/tags",
    "blobs_url": "/git/blobs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "trees_url": "/git/trees{/sha}",
    "statuses_url": "/statuses/{sha}",
    "languages_url": "/languages",
    "stargazers_url": "/stargazers",
    "contributors_url": "/contributors",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "commits_url": "/commits{/sha}",
    "git_commits_url": "/git/commits{/sha}",
    "comments_url": "/comments{/number}",
    "issue_comment_url": "/issues/comments{/number}",
    "contents_url": "/contents/{+path}",
    "compare_url": "/compare/{base}...{head}",
    "merges_url": "/merges",
    "archive_url": "/{archive_format}{/ref}",
    "downloads_url": "/downloads",
    "issues_url": "/issues{/number}",
    "pulls_url": "/pulls{/number}",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "labels_url": "/labels{/name}",
    "releases_url": "/releases{/id}",
    "deployments_url": "/deployments",
}


def repo_url(api: str, r: Repository) -> str:
    return f"{api}/repos/{r.full_name}"


def repository(api: str, r: Repository, *, full: bool = True) -> dict[str, Any]:
    """A repository as GET /repos/{owner}/{repo} answers it; `full=False` is the shorter form
    embedded in other objects (a pull request's head and base, webhook payloads), without the
    caller's permissions and the merge settings."""
    url = repo_url(api, r)
    body = {
        **_repository_identity(api, r, url),
        **{name: url + suffix for name, suffix in REPO_URL_TEMPLATES.items()},
        **_repository_git(api, r),
        **_repository_counts_and_features(r),
    }
    if full:
        body.update(_repository_settings())
        if r.owner.type == "Organization":
            body["organization"] = user(api, r.owner)
    return body


def _repository_identity(api: str, r: Repository, url: str) -> dict[str, Any]:
    return {
        "id": r.id,
        "node_id": node_id("Repository", r.id),
        "name": r.name,
        "full_name": r.full_name,
        "private": r.private,
        "owner": user(api, r.owner),
        "html_url": f"{api}/{r.full_name}",
        "description": r.description,
        "fork": r.parent is not None,
        "url": url,
    }


def _repository_git(api: str, r: Repository) -> dict[str, Any]:
    """When it was last pushed to, and where to clone it from."""
    return {
        "created_at": r.created_at,
        "updated_at": r.pushed_at or r.created_at,
        "pushed_at": r.pushed_at or r.created_at,
        "git_url": r.git.url,
        "ssh_url": r.git.url,
        "clone_url": r.http_url or r.git.url,
        "svn_url": f"{api}/{r.full_name}",
    }


def _repository_counts_and_features(r: Repository) -> dict[str, Any]:
    """What the emulator counts (open issues; no stars, forks or watchers) and switches on."""
    open_issues = sum(1 for issue in r.issues.values() if issue.state == "open")
    return {
        "homepage": None,
        "size": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "language": None,
        "has_issues": True,
        "has_projects": True,
        "has_downloads": True,
        "has_wiki": False,
        "has_pages": False,
        "has_discussions": False,
        "forks_count": 0,
        "mirror_url": None,
        "archived": False,
        "disabled": False,
        "open_issues_count": open_issues,
        "license": None,
        "allow_forking": True,
        "is_template": False,
        "web_commit_signoff_required": False,
        "topics": [],
        "visibility": "private" if r.private else "public",
        "forks": 0,
        "open_issues": open_issues,
        "watchers": 0,
        "default_branch": r.default_branch,
    }


# Every caller sees itself as an admin: the emulator checks access elsewhere (see `auth`).
CALLER_PERMISSIONS = ("admin", "maintain", "push", "triage", "pull")
SECURITY_FEATURES = (
    "secret_scanning",
    "secret_scanning_push_protection",
    "dependabot_security_updates",
    "secret_scanning_non_provider_patterns",
    "secret_scanning_validity_checks",
)


def _repository_settings() -> dict[str, Any]:
    """What only the full form shows: the caller's permissions, merge and security settings."""
    return {
        "permissions": dict.fromkeys(CALLER_PERMISSIONS, True),
        "temp_clone_token": None,
        "allow_squash_merge": True,
        "allow_merge_commit": True,
        "allow_rebase_merge": True,
        "allow_auto_merge": False,
        "delete_branch_on_merge": False,
        "allow_update_branch": False,
        "use_squash_pr_title_as_default": False,
        "squash_merge_commit_message": "COMMIT_MESSAGES",
        "squash_merge_commit_title": "COMMIT_OR_PR_TITLE",
        "merge_commit_message": "PR_TITLE",
        "merge_commit_title": "MERGE_MESSAGE",
        "network_count": 0,
        "security_and_analysis": {name: {"status": "disabled"} for name in SECURITY_FEATURES},
        "subscribers_count": 0,
    }


def app(api: str, a: App) -> dict[str, Any]:
    return {
        "id": a.id,
        "client_id": f"Iv1.{a.id:016x}",
        "slug": a.slug,
        "node_id": node_id("App", a.id),
        "owner": user(api, a.owner),
        "name": a.name,
        "description": "",
        "external_url": f"{api}/apps/{a.slug}",
        "html_url": f"{api}/apps/{a.slug}",
        "created_at": a.created_at,
        "updated_at": a.created_at,
        "permissions": dict(a.permissions),
        "events": list(a.events),
        "installations_count": 1,
    }


def installation(api: str, i: Installation) -> dict[str, Any]:
    return {
        "id": i.id,
        "client_id": f"Iv1.{i.app.id:016x}",
        "account": user(api, i.account),
        "repository_selection": i.repository_selection,
        "access_tokens_url": f"{api}/app/installations/{i.id}/access_tokens",
        "repositories_url": f"{api}/installation/repositories",
        "html_url": f"{api}/settings/installations/{i.id}",
        "app_id": i.app.id,
        "app_slug": i.app.slug,
        "target_id": i.account.id,
        "target_type": i.account.type,
        "permissions": dict(i.permissions),
        "events": list(i.events),
        "created_at": i.created_at,
        "updated_at": i.created_at,
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "suspended_by": None,
        "suspended_at": None,
    }


def label(api: str, r: Repository, lb: Label) -> dict[str, Any]:
    return {
        "id": lb.id,
        "node_id": node_id("Label", lb.id),
        "url": f"{repo_url(api, r)}/labels/{quote(lb.name)}",
        "name": lb.name,
        "color": lb.color,
        "default": lb.default,
        "description": lb.description,
    }


def error(message: str, **extra: Any) -> dict[str, Any]:
    return {"message": message, "documentation_url": DOCS, **extra}
