"""Check runs: create, get, update (with output and annotations), list for a ref."""

from __future__ import annotations

from typing import Any

from emulators.github import hooks, render, render_checks
from emulators.github.http import Ctx, HTTPError, Reply, invalid, not_found, route
from emulators.github.pulls import refresh
from emulators.github.state import CheckRun, Repository

STATUSES = ("queued", "in_progress", "completed", "waiting", "requested", "pending")
CONCLUSIONS = (
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "success",
    "skipped",
    "stale",
    "timed_out",
)


def _json(ctx: Ctx, repo: Repository, run: CheckRun) -> dict[str, Any]:
    app_json = render.app(ctx.api, run.app) if run.app else None
    return render_checks.check_run(ctx.api, repo, run, app_json)


def _announce(ctx: Ctx, repo: Repository, run: CheckRun, action: str) -> None:
    """The `check_run` webhook, linking the open pull requests whose head is the checked sha."""
    if not ctx.emulator.webhooks.enabled:
        return
    pulls = []
    for pull in repo.pulls.values():
        refresh(repo, pull)
        if pull.issue.state == "open" and pull.head_sha == run.head_sha:
            pulls.append(pull)
    tips = [ref for ref, sha in repo.git.refs("refs/heads/").items() if sha == run.head_sha]
    branches = [p.head_ref for p in pulls] + [ref.removeprefix("refs/heads/") for ref in tips]
    body = hooks.check_run(
        ctx.api, repo, run, pulls=pulls, head_branch=branches[0] if branches else None
    )
    ctx.notify("check_run", action, repo, check_run=body)


def _apply(ctx: Ctx, run: CheckRun, data: dict[str, Any]) -> None:
    for name in ("name", "details_url", "external_id", "started_at", "completed_at"):
        if name in data:
            setattr(run, name, data[name])
    if "status" in data:
        if data["status"] not in STATUSES:
            raise invalid(resource="CheckRun", field="status", code="invalid")
        run.status = data["status"]
    if "conclusion" in data:
        if data["conclusion"] not in CONCLUSIONS:
            raise invalid(resource="CheckRun", field="conclusion", code="invalid")
        run.conclusion, run.status = data["conclusion"], "completed"
    if run.status == "completed":
        if run.conclusion is None:
            raise invalid('Invalid request.\n\nNo subschema in "anyOf" matched.')
        run.completed_at = run.completed_at or ctx.emulator.now()
    if run.status == "in_progress" and run.started_at is None:
        run.started_at = ctx.emulator.now()
    output = data.get("output")
    if output is not None:
        if not output.get("title") or not output.get("summary"):
            raise invalid(resource="CheckRun", field="output", code="missing_field")
        run.output = {k: output.get(k) for k in ("title", "summary", "text")}
        run.annotations.extend(output.get("annotations") or [])


@route("POST", "/repos/{owner}/{repo}/check-runs")
def create_check_run(ctx: Ctx) -> Reply:
    repo = ctx.repo(write="checks")
    if ctx.principal.installation is None:
        raise HTTPError(403, "You must authenticate via a GitHub App.")
    data = ctx.body()
    ctx.require(data, "name", "head_sha")
    head_sha = repo.git.resolve(data["head_sha"])
    if head_sha is None:
        raise invalid("No commit found for SHA: " + data["head_sha"])
    run = CheckRun(
        id=ctx.emulator.next_id(),
        name=data["name"],
        head_sha=head_sha,
        app=ctx.principal.installation.app,
        started_at=ctx.emulator.now(),
        check_suite_id=ctx.emulator.next_id(),
    )
    _apply(ctx, run, {k: v for k, v in data.items() if k not in ("name", "head_sha")})
    repo.check_runs[run.id] = run
    _announce(ctx, repo, run, "created")
    if run.status == "completed":
        _announce(ctx, repo, run, "completed")
    body = _json(ctx, repo, run)
    return Reply(201, body, {"Location": body["url"]})


def _find(ctx: Ctx, repo: Repository) -> CheckRun:
    run = repo.check_runs.get(ctx.params["check_run_id"])
    if run is None:
        raise not_found()
    return run


@route("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id:int}")
def get_check_run(ctx: Ctx) -> Reply:
    repo = ctx.repo(read="checks")
    return Reply(body=_json(ctx, repo, _find(ctx, repo)))


@route("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id:int}")
def update_check_run(ctx: Ctx) -> Reply:
    repo = ctx.repo(write="checks")
    run = _find(ctx, repo)
    if ctx.principal.installation is None or ctx.principal.installation.app is not run.app:
        raise HTTPError(
            403,
            "Invalid app_id `0` - check run can only be modified by the "
            "GitHub App that created it.",
        )
    completed = run.status == "completed"
    _apply(ctx, run, ctx.body())
    if run.status == "completed" and not completed:
        _announce(ctx, repo, run, "completed")
    return Reply(body=_json(ctx, repo, run))


@route("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id:int}/annotations")
def list_annotations(ctx: Ctx) -> Reply:
    repo = ctx.repo(read="checks")
    run = _find(ctx, repo)
    body = [
        {
            "path": a.get("path"),
            "start_line": a.get("start_line"),
            "end_line": a.get("end_line"),
            "start_column": a.get("start_column"),
            "end_column": a.get("end_column"),
            "annotation_level": a.get("annotation_level"),
            "title": a.get("title"),
            "message": a.get("message"),
            "raw_details": a.get("raw_details"),
            "blob_href": f"{ctx.api}/{repo.full_name}/blob/{run.head_sha}/{a.get('path')}",
        }
        for a in ctx.page(run.annotations)
    ]
    return Reply(body=body)


@route("GET", "/repos/{owner}/{repo}/commits/{ref:path}/check-runs")
def list_check_runs_for_ref(ctx: Ctx) -> Reply:
    repo = ctx.repo(read="checks")
    sha = repo.git.resolve(ctx.params["ref"])
    if sha is None:
        raise HTTPError(422, f"No commit found for SHA: {ctx.params['ref']}")
    runs = [
        r
        for r in repo.check_runs.values()
        if r.head_sha == sha
        and ctx.query.get("check_name") in (None, r.name)
        and ctx.query.get("status") in (None, r.status)
    ]
    runs.sort(key=lambda r: -r.id)
    return Reply(
        body={"total_count": len(runs), "check_runs": [_json(ctx, repo, r) for r in ctx.page(runs)]}
    )
