"""git's smart HTTP protocol at `/{owner}/{repo}.git/...`, served by `git http-backend` (CGI).

Credentials as GitHub takes them: HTTP Basic whose password is an installation token (user
`x-access-token`) or a personal token. Public repositories can be fetched anonymously; a push
needs `contents: write`. After a push, open pull requests follow their moved head branches
and send `pull_request` `synchronize`.
"""

from __future__ import annotations

import base64
import binascii
import os
import subprocess
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulators.github.auth import AuthError, Principal, authenticate
from emulators.github.emulator import GitHubEmulator
from emulators.github.http import Ctx
from emulators.github.pulls import branch_moved
from emulators.github.state import Repository

PATH = "/{owner}/{repo}.git/{path:path}"
RECEIVE_PACK = "git-receive-pack"


@dataclass
class Refusal(Exception):
    status: int
    message: str

    def response(self) -> Response:
        headers = {"WWW-Authenticate": 'Basic realm="GitHub"'} if self.status == 401 else {}
        return Response(self.message + "\n", self.status, headers, media_type="text/plain")


def route(emulator: GitHubEmulator) -> Route:
    async def endpoint(request: Request) -> Response:
        try:
            principal = _principal(emulator, request.headers.get("authorization"))
            repo = _repo(emulator, principal, request)
        except Refusal as refusal:
            return refusal.response()
        body = await request.body()
        env = _cgi_env(request, repo, principal, len(body))
        path = request.path_params["path"]
        if request.method == "POST" and path == RECEIVE_PACK:
            ctx = Ctx(emulator, principal, str(request.base_url).rstrip("/"), "", {}, {}, b"")
            return await run_in_threadpool(_push, ctx, repo, env, body)
        return await run_in_threadpool(_backend, env, body)

    return Route(PATH, endpoint, methods=["GET", "POST"])


def _principal(emulator: GitHubEmulator, header: str | None) -> Principal:
    if header and header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        # the user name does not matter (`x-access-token` by convention); the token does
        header = f"token {decoded.partition(':')[2]}"
    try:
        principal = authenticate(emulator, header)
    except AuthError as error:
        raise Refusal(401, "Invalid username or password.") from error
    if principal.kind == "app":  # an app's JWT is no git credential
        raise Refusal(401, "Invalid username or password.")
    return principal


def _repo(emulator: GitHubEmulator, principal: Principal, request: Request) -> Repository:
    """The repository, if `principal` may fetch it (and push, for receive-pack)."""
    params = request.path_params
    repo = emulator.repo(f"{params['owner']}/{params['repo']}")
    anonymous = principal.kind == "anonymous"
    if repo is None or not principal.can_see(repo):
        raise (
            Refusal(401, "Authentication required.")
            if anonymous
            else Refusal(404, "Repository not found.")
        )
    wants_push = RECEIVE_PACK in (params["path"], request.query_params.get("service"))
    if not principal.can_read(repo, "contents"):
        raise Refusal(403, "Read access to repository not granted.")
    if wants_push and not principal.can_write(repo, "contents"):
        if anonymous:
            raise Refusal(401, "Authentication required.")
        who = principal.actor.login if principal.actor else "you"
        if principal.installation:
            raise Refusal(403, "Write access to repository not granted.")
        raise Refusal(403, f"Permission to {repo.full_name}.git denied to {who}.")
    return repo


def _cgi_env(
    request: Request, repo: Repository, principal: Principal, length: int
) -> dict[str, str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
        "GIT_PROJECT_ROOT": str(repo.git.path.parent),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": f"/{repo.git.path.name}/{request.path_params['path']}",
        "REQUEST_METHOD": request.method,
        "QUERY_STRING": request.url.query,
        "CONTENT_TYPE": request.headers.get("content-type", ""),
        "CONTENT_LENGTH": str(length),
        "REMOTE_ADDR": request.client.host if request.client else "127.0.0.1",
    }
    if principal.actor is not None:
        env["REMOTE_USER"] = principal.actor.login
    # git gzips large requests; http-backend inflates them when it is told so
    for header in ("content-encoding", "git-protocol"):
        if header in request.headers:
            env["HTTP_" + header.upper().replace("-", "_")] = request.headers[header]
    return env


def _backend(env: dict[str, str], body: bytes) -> Response:
    result = subprocess.run(
        ["git", "-c", "http.receivepack=true", "http-backend"],
        input=body,
        env=env,
        capture_output=True,
        check=False,
    )
    head, separator, content = result.stdout.partition(b"\r\n\r\n")
    if not separator:
        message = result.stderr.decode(errors="replace").strip() or "git http-backend failed"
        return Response(message + "\n", 500, media_type="text/plain")
    status, headers = 200, {}
    for line in head.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.split()[0])
        else:
            headers[name.strip()] = value.strip()
    return Response(content, status, headers)


def _push(ctx: Ctx, repo: Repository, env: dict[str, str], body: bytes) -> Response:
    """receive-pack, under the emulator's lock so the refs it moved are known exactly."""
    with ctx.emulator.lock:
        before = repo.git.refs("refs/heads/")
        response = _backend(env, body)
        after = repo.git.refs("refs/heads/")
        if after != before:
            repo.pushed_at = ctx.emulator.now()
        for ref, sha in after.items():
            if ref in before and before[ref] != sha:
                branch_moved(ctx, repo, ref.removeprefix("refs/heads/"), before[ref], sha)
    return response
