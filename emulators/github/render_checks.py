"""Pure builders: check runs, commit statuses and a commit's combined status as GitHub's JSON."""

from __future__ import annotations

from typing import Any

from emulators.github.render import node_id, repo_url, repository, user
from emulators.github.state import CheckRun, Repository, Status


def check_run(
    api: str, r: Repository, c: CheckRun, app_json: dict[str, Any] | None
) -> dict[str, Any]:
    url = f"{repo_url(api, r)}/check-runs/{c.id}"
    output = {
        "title": c.output.get("title"),
        "summary": c.output.get("summary"),
        "text": c.output.get("text"),
        "annotations_count": len(c.annotations),
        "annotations_url": f"{url}/annotations",
    }
    return {
        "id": c.id,
        "name": c.name,
        "node_id": node_id("CheckRun", c.id),
        "head_sha": c.head_sha,
        "external_id": c.external_id,
        "url": url,
        "html_url": f"{api}/{r.full_name}/runs/{c.id}",
        "details_url": c.details_url or url,
        "status": c.status,
        "conclusion": c.conclusion,
        "started_at": c.started_at,
        "completed_at": c.completed_at,
        "output": output,
        "check_suite": {"id": c.check_suite_id},
        "app": app_json,
        "pull_requests": [],
    }


def status(api: str, r: Repository, s: Status) -> dict[str, Any]:
    return {
        "url": f"{repo_url(api, r)}/statuses/{s.sha}",
        "avatar_url": None,
        "id": s.id,
        "node_id": node_id("StatusContext", s.id),
        "state": s.state,
        "description": s.description,
        "target_url": s.target_url,
        "context": s.context,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
        "creator": user(api, s.creator),
    }


def combined_status(api: str, r: Repository, sha: str, latest: list[Status]) -> dict[str, Any]:
    states = {s.state for s in latest}
    if states & {"error", "failure"}:
        state = "failure"
    elif not latest or "pending" in states:
        state = "pending"
    else:
        state = "success"
    return {
        "state": state,
        "statuses": [
            {k: v for k, v in status(api, r, s).items() if k != "creator"} for s in latest
        ],
        "sha": sha,
        "total_count": len(latest),
        "repository": repository(api, r, full=False),
        "commit_url": f"{repo_url(api, r)}/commits/{sha}",
        "url": f"{repo_url(api, r)}/commits/{sha}/status",
    }
