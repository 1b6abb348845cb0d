"""Fidelity: each emulator endpoint against a real recorded exchange and GitHub's OpenAPI."""

from __future__ import annotations

import ast
import base64
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_core.validation.response.exceptions import InvalidData
from starlette.testclient import TestClient

from emulators.github import GitHubEmulator, create_app
from tests.conftest import CORPUS

REST = CORPUS / "github-rest"
REPO = "/repos/octo-org/widgets"
RECORDED_REPO = r"/repos/[^/]+/[^/]+"


@dataclass
class Exchange:
    file: str
    method: str
    path: str
    status: int
    headers: dict[str, str]
    body: Any


@cache
def exchanges() -> list[Exchange]:
    found = []
    for path in sorted((REST / "pygithub-replay").glob("*.txt")):
        lines = path.read_text().split("\n")
        i = 0
        while i + 9 < len(lines):
            if not lines[i].strip():
                i += 1
                continue
            _scheme, method, _host, _port, url, _rh, _rb, status, headers, body = lines[i : i + 10]
            i += 11
            try:
                data = json.loads(body) if body.strip() else None
            except ValueError:
                continue
            found.append(
                Exchange(
                    path.name,
                    method,
                    url.split("?")[0],
                    int(status),
                    {k.lower(): v for k, v in ast.literal_eval(headers)},
                    data,
                )
            )
    return found


def leaves(value: Any) -> int:
    if isinstance(value, dict):
        return sum(1 + leaves(v) for v in value.values())
    if isinstance(value, list):
        return leaves(value[0]) if value else 0
    return 0


def recorded(method: str, pattern: str, status: int) -> Exchange:
    """The richest recorded exchange of this operation (most fields: the strictest check)."""
    regex = re.compile(pattern)
    matches = [
        e
        for e in exchanges()
        if e.method == method and regex.fullmatch(e.path) and e.status == status
    ]
    assert matches, f"no record of {method} {pattern} -> {status}"
    return max(matches, key=lambda e: leaves(e.body))


def kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object", type(None): "null"}[type(value)]


# Fields GitHub sets or clears with the state of the thing (closed, merged, described...):
# the emulator may send null where the record has a value; the OpenAPI check still applies.
STATEFUL = frozenset(
    {
        "assignee",
        "body",
        "closed_at",
        "closed_by",
        "description",
        "homepage",
        "language",
        "license",
        "merge_commit_sha",
        "merged_at",
        "merged_by",
        "milestone",
        "state_reason",
        "temp_clone_token",
        "type",
        "mergeable",
        "rebaseable",
        "auto_merge",
        "conclusion",
        "completed_at",
    }
)


def missing_or_mistyped(
    recorded_value: Any, emulated: Any, where: str = "$", ignore: frozenset[str] = frozenset()
) -> list[str]:
    """Fields of the record that the emulator lacks or gives another JSON type (null = any)."""
    if recorded_value is None:
        return []
    if emulated is None and where.rsplit(".", 1)[-1] in STATEFUL:
        return []
    if where.endswith(".permissions") and isinstance(emulated, dict):
        return []  # a map whose keys are whatever the app was granted
    if kind(recorded_value) != kind(emulated):
        return [f"{where}: recorded {kind(recorded_value)}, emulated {kind(emulated)}"]
    problems = []
    if isinstance(recorded_value, dict):
        for key, value in recorded_value.items():
            path = f"{where}.{key}"
            if path in ignore:
                continue
            if key not in emulated:
                problems.append(f"{path}: missing")
            else:
                problems += missing_or_mistyped(value, emulated[key], path, ignore)
    elif isinstance(recorded_value, list) and recorded_value and emulated:
        problems += missing_or_mistyped(recorded_value[0], emulated[0], f"{where}[0]", ignore)
    return problems


STATUS = {
    "state": "success",
    "context": "ci",
    "target_url": "https://ci.example.com/1",
    "description": "passed",
}
CHECK_OUTPUT = {"title": "Report", "summary": "All good", "text": "Details"}


def new_branch(world: World, name: str) -> None:
    world.call("POST", f"{REPO}/git/refs", {"ref": f"refs/heads/{name}", "sha": world.ids["main"]})


@cache
def app_key() -> bytes:
    """One RSA key for every world: generating one per test costs more than the test."""
    return GitHubEmulator().add_app().private_key_pem or b""


# the world every operation starts from
@dataclass
class World:
    client: TestClient
    emulator: GitHubEmulator
    token: str
    jwt: str
    ids: dict[str, Any] = field(default_factory=dict)

    def call(self, method: str, path: str, body: Any = None, *, app: bool = False):
        auth = f"Bearer {self.jwt}" if app else f"token {self.token}"
        return self.client.request(method, path, json=body, headers={"Authorization": auth})


def seeded(tmp_path: Path) -> World:
    emulator = GitHubEmulator(tmp_path)
    emulator.add_user("octo-org", type="Organization")
    emulator.add_user("alice", token="ghp_alice")
    emulator.create_repo(
        "octo-org/widgets",
        files={"README.md": "hi\n", "a.py": "a = 1\n"},
        collaborators={"alice": "write"},
    )
    app = emulator.add_app(slug="repocrew", private_key_pem=app_key())
    installation = emulator.install(app, "octo-org")
    token = emulator.issue_installation_token(installation).token
    now = int(time.time())
    encoded = jwt.encode(
        {"iat": now - 60, "exp": now + 540, "iss": str(app.id)},
        app.private_key_pem,
        algorithm="RS256",
    )
    world = World(
        TestClient(create_app(emulator)),
        emulator,
        token,
        encoded,
        {"installation": installation.id},
    )
    main = world.call("GET", f"{REPO}/git/ref/heads/main").json()["object"]["sha"]
    world.ids["main"] = main
    world.call("POST", f"{REPO}/git/refs", {"ref": "refs/heads/feature", "sha": main})
    content = base64.b64encode(b"b = 2\n").decode()
    world.call(
        "PUT",
        f"{REPO}/contents/b.py",
        {"message": "Add b", "content": content, "branch": "feature"},
    )
    head = world.call("GET", f"{REPO}/git/ref/heads/feature").json()["object"]["sha"]
    world.ids["head"] = head
    pull = world.call(
        "POST", f"{REPO}/pulls", {"title": "Add b", "head": "feature", "base": "main", "body": "b"}
    ).json()
    world.call(
        "POST",
        f"{REPO}/pulls/1/reviews",
        {
            "body": "ok",
            "event": "COMMENT",
            "comments": [{"path": "b.py", "line": 1, "side": "RIGHT", "body": "nice"}],
        },
    )
    issue = world.call("POST", f"{REPO}/issues", {"title": "Bug", "labels": ["bug"]}).json()
    comment = world.call("POST", f"{REPO}/issues/2/comments", {"body": "seen"}).json()
    run = world.call("POST", f"{REPO}/check-runs", {"name": "crew", "head_sha": head}).json()
    world.call("POST", f"{REPO}/check-runs", {"name": "lint", "head_sha": head})
    world.call("POST", f"{REPO}/statuses/{head}", STATUS)
    world.ids.update(
        pull=pull["number"], issue=issue["number"], comment=comment["id"], run=run["id"]
    )
    return world


@dataclass(frozen=True)
class Op:
    method: str
    record: str  # regex on the recorded path
    status: int
    request: Callable[[World], tuple[str, Any]]  # -> (path, json body)
    openapi: str  # the OpenAPI path template
    app: bool = False
    ignore: frozenset[str] = frozenset()


# Fields of 2012-era records that GitHub no longer sends on these shapes.
PULL_ONLY = frozenset({"$.pull_request"})  # issues that are pull requests have it
# Only forks have these.
FORK_ONLY = frozenset({"$.parent", "$.source"})

OPS = {
    "get repo": Op(
        "GET", RECORDED_REPO, 200, lambda w: (REPO, None), "/repos/{owner}/{repo}", ignore=FORK_ONLY
    ),
    "get ref": Op(
        "GET",
        RECORDED_REPO + "/git/ref/.+",
        200,
        lambda w: (f"{REPO}/git/ref/heads/main", None),
        "/repos/{owner}/{repo}/git/ref/{ref}",
    ),
    "create ref": Op(
        "POST",
        RECORDED_REPO + "/git/refs",
        201,
        lambda w: (f"{REPO}/git/refs", {"ref": "refs/heads/x", "sha": w.ids["main"]}),
        "/repos/{owner}/{repo}/git/refs",
    ),
    "update ref": Op(
        "PATCH",
        RECORDED_REPO + "/git/refs/.+",
        200,
        lambda w: (f"{REPO}/git/refs/heads/main", {"sha": w.ids["head"]}),
        "/repos/{owner}/{repo}/git/refs/{ref}",
    ),
    "delete ref": Op(
        "DELETE",
        RECORDED_REPO + "/git/ref/.+",
        204,
        lambda w: (f"{REPO}/git/refs/heads/feature", None),
        "/repos/{owner}/{repo}/git/refs/{ref}",
    ),
    "get branch": Op(
        "GET", RECORDED_REPO + "/branches/[^/]+", 200, lambda w: (f"{REPO}/branches/main", None), ""
    ),
    "create file": Op(
        "PUT",
        RECORDED_REPO + "/contents/.+",
        201,
        lambda w: (
            f"{REPO}/contents/docs/new.md",
            {"message": "m", "content": "aGk=", "branch": "main"},
        ),
        "/repos/{owner}/{repo}/contents/{path}",
    ),
    "get file": Op(
        "GET",
        RECORDED_REPO + "/contents/.+",
        200,
        lambda w: (f"{REPO}/contents/README.md", None),
        "/repos/{owner}/{repo}/contents/{path}",
    ),
    "get commit": Op(
        "GET",
        RECORDED_REPO + "/commits/[0-9a-f]{40}",
        200,
        lambda w: (f"{REPO}/commits/{w.ids['head']}", None),
        "",
    ),
    "create pull": Op(
        "POST",
        RECORDED_REPO + "/pulls",
        201,
        lambda w: (
            new_branch(w, "x") or (f"{REPO}/pulls", {"title": "t", "head": "feature", "base": "x"})
        ),
        "/repos/{owner}/{repo}/pulls",
    ),
    "list pulls": Op(
        "GET",
        RECORDED_REPO + "/pulls",
        200,
        lambda w: (f"{REPO}/pulls?per_page=1", None),
        "/repos/{owner}/{repo}/pulls",
    ),
    "get pull": Op(
        "GET",
        RECORDED_REPO + r"/pulls/\d+",
        200,
        lambda w: (f"{REPO}/pulls/1", None),
        "/repos/{owner}/{repo}/pulls/{pull_number}",
    ),
    "update pull": Op(
        "PATCH",
        RECORDED_REPO + r"/pulls/\d+",
        200,
        lambda w: (f"{REPO}/pulls/1", {"title": "new"}),
        "/repos/{owner}/{repo}/pulls/{pull_number}",
    ),
    "pull files": Op(
        "GET",
        RECORDED_REPO + r"/pulls/\d+/files",
        200,
        lambda w: (f"{REPO}/pulls/1/files?per_page=1", None),
        "/repos/{owner}/{repo}/pulls/{pull_number}/files",
    ),
    "pull commits": Op(
        "GET",
        RECORDED_REPO + r"/pulls/\d+/commits",
        200,
        lambda w: (f"{REPO}/pulls/1/commits?per_page=1", None),
        "",
    ),
    "merge pull": Op(
        "PUT",
        RECORDED_REPO + r"/pulls/\d+/merge",
        200,
        lambda w: (f"{REPO}/pulls/1/merge", {}),
        "/repos/{owner}/{repo}/pulls/{pull_number}/merge",
    ),
    "not merged": Op(
        "GET",
        RECORDED_REPO + r"/pulls/\d+/merge",
        404,
        lambda w: (f"{REPO}/pulls/1/merge", None),
        "/repos/{owner}/{repo}/pulls/{pull_number}/merge",
    ),
    "list reviews": Op(
        "GET",
        RECORDED_REPO + r"/pulls/\d+/reviews",
        200,
        lambda w: (f"{REPO}/pulls/1/reviews?per_page=1", None),
        "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
    ),
    "create review": Op(
        "POST",
        RECORDED_REPO + r"/pulls/\d+/reviews",
        200,
        lambda w: (f"{REPO}/pulls/1/reviews", {"body": "b", "event": "COMMENT"}),
        "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
    ),
    "list review comments": Op(
        "GET",
        RECORDED_REPO + r"/pulls/\d+/comments",
        200,
        lambda w: (f"{REPO}/pulls/1/comments?per_page=1", None),
        "/repos/{owner}/{repo}/pulls/{pull_number}/comments",
    ),
    "create review comment": Op(
        "POST",
        RECORDED_REPO + r"/pulls/\d+/comments",
        201,
        lambda w: (
            f"{REPO}/pulls/1/comments",
            {"body": "c", "commit_id": w.ids["head"], "path": "b.py", "line": 1},
        ),
        "/repos/{owner}/{repo}/pulls/{pull_number}/comments",
    ),
    "create issue": Op(
        "POST",
        RECORDED_REPO + "/issues",
        201,
        lambda w: (f"{REPO}/issues", {"title": "t"}),
        "/repos/{owner}/{repo}/issues",
        ignore=PULL_ONLY,
    ),
    "list issues": Op(
        "GET", RECORDED_REPO + "/issues", 200, lambda w: (f"{REPO}/issues?per_page=1", None), ""
    ),
    "get issue": Op(
        "GET",
        RECORDED_REPO + r"/issues/\d+",
        200,
        lambda w: (f"{REPO}/issues/2", None),
        "/repos/{owner}/{repo}/issues/{issue_number}",
    ),
    "update issue": Op(
        "PATCH",
        RECORDED_REPO + r"/issues/\d+",
        200,
        lambda w: (f"{REPO}/issues/2", {"state": "closed"}),
        "/repos/{owner}/{repo}/issues/{issue_number}",
        ignore=PULL_ONLY,
    ),
    "add assignees": Op(
        "POST",
        RECORDED_REPO + r"/issues/\d+/assignees",
        201,
        lambda w: (f"{REPO}/issues/2/assignees", {"assignees": ["alice", "repocrew[bot]"]}),
        "",  # not in the OpenAPI subset
        ignore=PULL_ONLY,
    ),
    "remove assignees": Op(
        "DELETE",
        RECORDED_REPO + r"/issues/\d+/assignees",
        200,
        lambda w: (f"{REPO}/issues/2/assignees", {"assignees": ["alice"]}),
        "",
        ignore=PULL_ONLY,
    ),
    "check assignee": Op(
        "GET",
        RECORDED_REPO + "/assignees/[^/]+",
        204,
        lambda w: (f"{REPO}/assignees/repocrew%5Bbot%5D", None),
        "",
    ),
    "list comments": Op(
        "GET",
        RECORDED_REPO + r"/issues/\d+/comments",
        200,
        lambda w: (f"{REPO}/issues/2/comments?per_page=1", None),
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
    ),
    "create comment": Op(
        "POST",
        RECORDED_REPO + r"/issues/\d+/comments",
        201,
        lambda w: (f"{REPO}/issues/2/comments", {"body": "x"}),
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
    ),
    "get comment": Op(
        "GET",
        RECORDED_REPO + r"/issues/comments/\d+",
        200,
        lambda w: (f"{REPO}/issues/comments/{w.ids['comment']}", None),
        "/repos/{owner}/{repo}/issues/comments/{comment_id}",
    ),
    "update comment": Op(
        "PATCH",
        RECORDED_REPO + r"/issues/comments/\d+",
        200,
        lambda w: (f"{REPO}/issues/comments/{w.ids['comment']}", {"body": "y"}),
        "/repos/{owner}/{repo}/issues/comments/{comment_id}",
    ),
    "issue labels": Op(
        "GET",
        RECORDED_REPO + r"/issues/\d+/labels",
        200,
        lambda w: (f"{REPO}/issues/2/labels?per_page=1", None),
        "/repos/{owner}/{repo}/issues/{issue_number}/labels",
    ),
    "add labels": Op(
        "POST",
        RECORDED_REPO + r"/issues/\d+/labels",
        200,
        lambda w: (f"{REPO}/issues/2/labels", ["enhancement"]),
        "/repos/{owner}/{repo}/issues/{issue_number}/labels",
    ),
    "remove label": Op(
        "DELETE",
        RECORDED_REPO + r"/issues/\d+/labels/[^/]+",
        200,
        lambda w: (f"{REPO}/issues/2/labels/bug", None),
        "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
    ),
    "repo labels": Op(
        "GET",
        RECORDED_REPO + "/labels",
        200,
        lambda w: (f"{REPO}/labels?per_page=1", None),
        "/repos/{owner}/{repo}/labels",
    ),
    "create label": Op(
        "POST",
        RECORDED_REPO + "/labels",
        201,
        lambda w: (f"{REPO}/labels", {"name": "crew", "color": "00ff00"}),
        "/repos/{owner}/{repo}/labels",
    ),
    "get label": Op(
        "GET",
        RECORDED_REPO + "/labels/[^/]+",
        200,
        lambda w: (f"{REPO}/labels/bug", None),
        "/repos/{owner}/{repo}/labels/{name}",
    ),
    "create check run": Op(
        "POST",
        RECORDED_REPO + "/check-runs",
        201,
        lambda w: (
            f"{REPO}/check-runs",
            {
                "name": "n",
                "head_sha": w.ids["head"],
                "status": "completed",
                "conclusion": "success",
                "output": CHECK_OUTPUT,
            },
        ),
        "/repos/{owner}/{repo}/check-runs",
    ),
    "get check run": Op(
        "GET",
        RECORDED_REPO + r"/check-runs/\d+",
        200,
        lambda w: (f"{REPO}/check-runs/{w.ids['run']}", None),
        "/repos/{owner}/{repo}/check-runs/{check_run_id}",
    ),
    "update check run": Op(
        "PATCH",
        RECORDED_REPO + r"/check-runs/\d+",
        200,
        lambda w: (
            f"{REPO}/check-runs/{w.ids['run']}",
            {"conclusion": "success", "output": {"title": "t", "summary": "s"}},
        ),
        "/repos/{owner}/{repo}/check-runs/{check_run_id}",
    ),
    "check runs for ref": Op(
        "GET",
        RECORDED_REPO + r"/commits/[^/]+/check-runs",
        200,
        lambda w: (f"{REPO}/commits/{w.ids['head']}/check-runs?per_page=1", None),
        "",
    ),
    "create status": Op(
        "POST",
        RECORDED_REPO + "/statuses/[0-9a-f]+",
        201,
        lambda w: (f"{REPO}/statuses/{w.ids['head']}", STATUS),
        "/repos/{owner}/{repo}/statuses/{sha}",
    ),
    "list statuses": Op(
        "GET",
        RECORDED_REPO + "/statuses/[0-9a-f]+",
        200,
        lambda w: (f"{REPO}/statuses/{w.ids['head']}", None),
        "",
    ),
    "combined status": Op(
        "GET",
        RECORDED_REPO + "/commits/[^/]+/status",
        200,
        lambda w: (f"{REPO}/commits/{w.ids['head']}/status", None),
        "/repos/{owner}/{repo}/commits/{ref}/status",
    ),
    "collaborator permission": Op(
        "GET",
        RECORDED_REPO + "/collaborators/[^/]+/permission",
        200,
        lambda w: (f"{REPO}/collaborators/alice/permission", None),
        "/repos/{owner}/{repo}/collaborators/{username}/permission",
    ),
    "get app": Op("GET", "/app", 200, lambda w: ("/app", None), "/app", app=True),
    "access token": Op(
        "POST",
        r"/app/installations/\d+/access_tokens",
        201,
        lambda w: (f"/app/installations/{w.ids['installation']}/access_tokens", {}),
        "/app/installations/{installation_id}/access_tokens",
        app=True,
    ),
    "repo installation": Op(
        "GET",
        RECORDED_REPO + "/installation",
        200,
        lambda w: (f"{REPO}/installation", None),
        "/repos/{owner}/{repo}/installation",
        app=True,
    ),
    "rate limit": Op("GET", "/rate_limit", 200, lambda w: ("/rate_limit", None), "/rate_limit"),
}


@cache
def openapi() -> OpenAPI:
    return OpenAPI.from_dict(json.loads((REST / "openapi-subset.json").read_text()))


def openapi_path(template: str, path: str) -> str:
    """`path` with a trailing {ref}/{path} parameter's slashes encoded, so the template matches."""
    fixed = template.count("/")
    if template.endswith(("{ref}", "{path}")) and path.count("/") > fixed:
        parts = path.split("/")
        return "/".join(parts[:fixed]) + "/" + "%2F".join(parts[fixed:])
    return path


def validate_openapi(
    method: str, path: str, body: Any, status: int, headers: dict[str, str], content: bytes
) -> None:
    request = requests.Request(method, f"https://api.github.com{path}", json=body)
    response = requests.Response()
    response.status_code = status
    response._content = content
    response.headers.update(headers)
    try:
        openapi().validate_response(
            RequestsOpenAPIRequest(request), RequestsOpenAPIResponse(response)
        )
    except InvalidData as error:
        errors = getattr(error.__cause__, "schema_errors", ())
        if not errors or not all(nullable_enum(e) for e in errors):
            raise


def nullable_enum(error: Any) -> bool:
    """null for a `nullable` enum: valid in OpenAPI 3.0, but enum checks reject it."""
    return error.validator == "enum" and error.instance is None and error.schema.get("nullable")


@pytest.mark.parametrize("name", list(OPS))
def test_operation_matches_the_record(name: str, corpus: Path, tmp_path: Path) -> None:
    op = OPS[name]
    record = recorded(op.method, op.record, op.status)
    world = seeded(tmp_path)
    path, body = op.request(world)
    response = world.call(op.method, path, body, app=op.app)
    assert response.status_code == record.status, response.text
    for header in ("location", "etag", "link"):
        if header in record.headers:
            assert header in response.headers, f"{header} missing ({record.file})"
    for header in record.headers:
        if header.startswith("x-ratelimit-"):
            assert header in response.headers, f"{header} missing ({record.file})"
    emulated = response.json() if response.content else None
    problems = missing_or_mistyped(record.body, emulated, ignore=op.ignore)
    assert not problems, f"against {record.file}:\n" + "\n".join(problems)
    if op.openapi:
        validate_openapi(
            op.method,
            openapi_path(op.openapi, path),
            body,
            response.status_code,
            dict(response.headers),
            response.content,
        )


def test_list_endpoints_paginate_with_link(corpus: Path, tmp_path: Path) -> None:
    world = seeded(tmp_path)
    for n in range(3):
        world.call("POST", f"{REPO}/issues", {"title": f"more {n}"})
    first = world.call("GET", f"{REPO}/issues?per_page=2")
    assert 'rel="next"' in first.headers["link"] and len(first.json()) == 2
    last = world.call("GET", f"{REPO}/issues?per_page=2&page=2")
    assert 'rel="prev"' in last.headers["link"] and len(last.json()) == 2
