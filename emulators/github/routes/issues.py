"""Issues, issue comments and labels (on issues and on the repository)."""

from __future__ import annotations

import json
from typing import Any

from emulators.github import assigning, hooks, render, render_work
from emulators.github.http import Ctx, HTTPError, Reply, invalid, not_found, route
from emulators.github.pulls import announce_pull
from emulators.github.state import Comment, Issue, Label, Repository


def _issue(ctx: Ctx, repo: Repository) -> Issue:
    issue = repo.issues.get(int(ctx.params["number"]))
    if issue is None:
        raise not_found()
    return issue


def _labels(ctx: Ctx, repo: Repository, names: list[Any]) -> list[Label]:
    labels = []
    for item in names:
        name = item["name"] if isinstance(item, dict) else str(item)
        label = repo.label(name)
        if label is None:  # GitHub creates labels it does not know yet
            label = Label(id=ctx.emulator.next_id(), name=name, color="ededed")
            repo.labels[name] = label
        if label not in labels:
            labels.append(label)
    return labels


def _label_names(data: Any) -> list[Any]:
    return data.get("labels", []) if isinstance(data, dict) else data


def announce(ctx: Ctx, repo: Repository, issue: Issue, action: str, **fields: Any) -> None:
    """The `issues` webhook; for a pull request GitHub sends `pull_request` instead."""
    if issue.is_pull:
        announce_pull(ctx, repo, repo.pulls[issue.number], action, **fields)
    else:
        ctx.notify("issues", action, repo, issue=hooks.issue(ctx.api, repo, issue), **fields)


def _relabeled(ctx: Ctx, repo: Repository, issue: Issue, before: list[Label]) -> None:
    """One `unlabeled` per label taken off, then one `labeled` per label put on."""
    for label in before:
        if label not in issue.labels:
            announce(ctx, repo, issue, "unlabeled", label=hooks.label(ctx.api, repo, label))
    for label in issue.labels:
        if label not in before:
            announce(ctx, repo, issue, "labeled", label=hooks.label(ctx.api, repo, label))


@route("POST", "/repos/{owner}/{repo}/issues")
def create_issue(ctx: Ctx) -> Reply:
    repo = ctx.repo(write="issues")
    data = ctx.body()
    ctx.require(data, "title")
    now = ctx.emulator.now()
    issue = Issue(
        id=ctx.emulator.next_id(),
        number=repo.next_number(),
        title=str(data["title"]),
        body=data.get("body"),
        user=ctx.actor(),
        created_at=now,
        updated_at=now,
        labels=_labels(ctx, repo, data.get("labels") or []),
        assignees=assigning.requested(ctx, repo, data, []),
    )
    repo.issues[issue.number] = issue
    announce(ctx, repo, issue, "opened")
    _relabeled(ctx, repo, issue, [])
    assigning.announce(ctx, repo, issue, [])
    body = render_work.issue(ctx.api, repo, issue)
    return Reply(201, body, {"Location": body["url"]})


@route("GET", "/repos/{owner}/{repo}/issues")
def list_issues(ctx: Ctx) -> Reply:
    repo = ctx.repo(read="issues")
    state = ctx.query.get("state", "open")
    wanted = {n.lower() for n in ctx.query.get("labels", "").split(",") if n}
    issues = [
        i
        for i in sorted(repo.issues.values(), key=lambda i: -i.number)
        if (state == "all" or i.state == state) and wanted <= {lb.name.lower() for lb in i.labels}
    ]
    if ctx.query.get("direction") == "asc":
        issues.reverse()
    return Reply(body=[render_work.issue(ctx.api, repo, i) for i in ctx.page(issues)])


@route("GET", "/repos/{owner}/{repo}/issues/{number:int}")
def get_issue(ctx: Ctx) -> Reply:
    repo = ctx.repo(read="issues")
    return Reply(body=render_work.issue(ctx.api, repo, _issue(ctx, repo)))


@route("PATCH", "/repos/{owner}/{repo}/issues/{number:int}")
def update_issue(ctx: Ctx) -> Reply:
    repo = ctx.repo(write="issues")
    issue = _issue(ctx, repo)
    data = ctx.body()
    now = ctx.emulator.now()
    before = {"title": issue.title, "body": issue.body}
    labels, state, people = list(issue.labels), issue.state, list(issue.assignees)
    issue.assignees = assigning.requested(ctx, repo, data, people)  # 422 before any change
    if "title" in data:
        issue.title = str(data["title"])
    if "body" in data:
        issue.body = data["body"]
    if "labels" in data:
        issue.labels = _labels(ctx, repo, data["labels"] or [])
    if "state" in data:
        if data["state"] not in ("open", "closed"):
            raise invalid(resource="Issue", field="state", code="invalid")
        if issue.is_pull and repo.pulls[issue.number].merged:
            data = {**data, "state": "closed"}
        if data["state"] == "closed" and issue.state == "open":
            issue.closed_at, issue.closed_by = now, ctx.actor()
            issue.state_reason = data.get("state_reason") or "completed"
        elif data["state"] == "open" and issue.state == "closed":
            issue.closed_at, issue.closed_by, issue.state_reason = None, None, "reopened"
        issue.state = data["state"]
    issue.updated_at = now
    edits = hooks.changes(before, {"title": issue.title, "body": issue.body})
    if edits:
        announce(ctx, repo, issue, "edited", changes=edits)
    _relabeled(ctx, repo, issue, labels)
    assigning.announce(ctx, repo, issue, people)
    if issue.state != state:
        announce(ctx, repo, issue, "closed" if issue.state == "closed" else "reopened")
    return Reply(body=render_work.issue(ctx.api, repo, issue))


# comments
@route("GET", "/repos/{owner}/{repo}/issues/{number:int}/comments")
def list_comments(ctx: Ctx) -> Reply:
    repo = ctx.repo(read="issues")
    comments = ctx.page(_issue(ctx, repo).comments)
    return Reply(body=[render_work.issue_comment(ctx.api, repo, c) for c in comments])


@route("POST", "/repos/{owner}/{repo}/issues/{number:int}/comments")
def create_comment(ctx: Ctx) -> Reply:
    # On GitHub anyone who can read a repository may comment on its issues; an App needs
    # its `issues` write permission.
    repo = ctx.repo(write="issues" if ctx.principal.installation else None)
    if ctx.principal.kind == "anonymous":
        raise HTTPError(401, "Requires authentication")
    issue = _issue(ctx, repo)
    data = ctx.body()
    ctx.require(data, "body")
    now = ctx.emulator.now()
    comment = Comment(
        id=ctx.emulator.next_id(),
        issue_number=issue.number,
        user=ctx.actor(),
        body=data["body"],
        created_at=now,
        updated_at=now,
    )
    issue.comments.append(comment)
    issue.updated_at = now
    _comment_event(ctx, repo, issue, comment, "created")
    body = render_work.issue_comment(ctx.api, repo, comment)
    return Reply(201, body, {"Location": body["url"]})


def _comment_event(
    ctx: Ctx, repo: Repository, issue: Issue, comment: Comment, action: str, **fields: Any
) -> None:
    ctx.notify(
        "issue_comment",
        action,
        repo,
        **fields,
        issue=hooks.issue(ctx.api, repo, issue),
        comment=hooks.issue_comment(ctx.api, repo, comment),
    )


def _comment(ctx: Ctx, repo: Repository) -> Comment:
    wanted = int(ctx.params["comment_id"])
    for issue in repo.issues.values():
        for comment in issue.comments:
            if comment.id == wanted:
                return comment
    raise not_found()


@route("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id:int}")
def get_comment(ctx: Ctx) -> Reply:
    repo = ctx.repo(read="issues")
    return Reply(body=render_work.issue_comment(ctx.api, repo, _comment(ctx, repo)))


@route("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id:int}")
def update_comment(ctx: Ctx) -> Reply:
    repo = ctx.repo(write="issues")
    comment = _comment(ctx, repo)
    data = ctx.body()
    ctx.require(data, "body")
    edits = hooks.changes({"body": comment.body}, {"body": data["body"]})
    comment.body, comment.updated_at = data["body"], ctx.emulator.now()
    if edits:
        issue = repo.issues[comment.issue_number]
        _comment_event(ctx, repo, issue, comment, "edited", changes=edits)
    return Reply(body=render_work.issue_comment(ctx.api, repo, comment))


# labels on an issue
def _issue_labels(ctx: Ctx, repo: Repository, issue: Issue) -> Reply:
    return Reply(body=[render.label(ctx.api, repo, lb) for lb in issue.labels])


@route("GET", "/repos/{owner}/{repo}/issues/{number:int}/labels")
def list_issue_labels(ctx: Ctx) -> Reply:
    repo = ctx.repo(read="issues")
    issue = _issue(ctx, repo)
    return Reply(body=[render.label(ctx.api, repo, lb) for lb in ctx.page(issue.labels)])


@route("POST", "/repos/{owner}/{repo}/issues/{number:int}/labels")
def add_issue_labels(ctx: Ctx) -> Reply:
    repo = ctx.repo(write="issues")
    issue = _issue(ctx, repo)
    new = _labels(ctx, repo, _label_names(_json(ctx)))
    before = list(issue.labels)
    issue.labels += [lb for lb in new if lb not in issue.labels]
    _relabeled(ctx, repo, issue, before)
    return _issue_labels(ctx, repo, issue)


@route("PUT", "/repos/{owner}/{repo}/issues/{number:int}/labels")
def set_issue_labels(ctx: Ctx) -> Reply:
    repo = ctx.repo(write="issues")
    issue = _issue(ctx, repo)
    before = list(issue.labels)
    issue.labels = _labels(ctx, repo, _label_names(_json(ctx)))
    _relabeled(ctx, repo, issue, before)
    return _issue_labels(ctx, repo, issue)


@route("DELETE", "/repos/{owner}/{repo}/issues/{number:int}/labels/{name:path}")
def remove_issue_label(ctx: Ctx) -> Reply:
    repo = ctx.repo(write="issues")
    issue = _issue(ctx, repo)
    label = repo.label(ctx.params["name"])
    if label is None or label not in issue.labels:
        raise invalid("Label does not exist") if label is None else not_found()
    issue.labels.remove(label)
    announce(ctx, repo, issue, "unlabeled", label=hooks.label(ctx.api, repo, label))
    return _issue_labels(ctx, repo, issue)


def _json(ctx: Ctx) -> Any:
    """The body of a labels request: a list of names, or an object with `labels`."""
    try:
        return json.loads(ctx.raw_body or b"[]")
    except ValueError as error:
        raise HTTPError(400, "Problems parsing JSON") from error


# repository labels
@route("GET", "/repos/{owner}/{repo}/labels")
def list_labels(ctx: Ctx) -> Reply:
    repo = ctx.repo(read="issues")
    labels = ctx.page(list(repo.labels.values()))
    return Reply(body=[render.label(ctx.api, repo, lb) for lb in labels])


@route("POST", "/repos/{owner}/{repo}/labels")
def create_label(ctx: Ctx) -> Reply:
    repo = ctx.repo(write="issues")
    data = ctx.body()
    ctx.require(data, "name")
    if repo.label(data["name"]):
        raise invalid(resource="Label", code="already_exists", field="name")
    label = Label(
        id=ctx.emulator.next_id(),
        name=data["name"],
        color=str(data.get("color") or "ededed").lstrip("#"),
        description=data.get("description"),
    )
    repo.labels[label.name] = label
    body = render.label(ctx.api, repo, label)
    return Reply(201, body, {"Location": body["url"]})


@route("GET", "/repos/{owner}/{repo}/labels/{name:path}")
def get_label(ctx: Ctx) -> Reply:
    repo = ctx.repo(read="issues")
    label = repo.label(ctx.params["name"])
    if label is None:
        raise not_found()
    return Reply(body=render.label(ctx.api, repo, label))
