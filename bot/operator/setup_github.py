"""`repocrew setup github`: create the GitHub App from its manifest and keep its credentials.

GitHub's App manifest flow: a page on loopback posts the manifest (deploy/github-app-manifest.yml
with the public URL filled in) to `{github}/settings/apps/new?state=…`; the person clicks Create
on GitHub, which redirects back here with a one-hour, single-use `code`; the code is exchanged at
`POST {api}/app-manifests/{code}/conversions` for the App's id, private key and webhook secret,
which go to the env file (mode 0600, other lines kept) and a key file beside it. Nothing secret
is ever shown: not on the page, not in the terminal.
"""

from __future__ import annotations

import html
import json
import os
import re
import secrets
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import yaml

from bot.operator.manifests import manifest_text
from bot.settings import GITHUB_API_URL

GITHUB_URL = "https://github.com"
TIMEOUT = 30  # seconds for the code exchange
SECRET_MODE = 0o600


class SetupError(Exception):
    """The flow cannot finish; the message says why and what to do."""


@dataclass(frozen=True)
class CreatedApp:
    """What the flow leaves behind: no secret in here, only where they were written."""

    app_id: int
    slug: str
    html_url: str
    env_file: Path
    key_file: Path


def api_url_for(github_url: str) -> str:
    """github.com's API host, or GitHub Enterprise Server's `/api/v3` under its own host."""
    github_url = github_url.rstrip("/")
    return GITHUB_API_URL if github_url == GITHUB_URL else f"{github_url}/api/v3"


def build_manifest(public_url: str, *, redirect_url: str, name: str) -> dict[str, Any]:
    """The shipped manifest for `public_url`, redirected to this flow's callback."""
    manifest = yaml.safe_load(manifest_text("github", public_url))
    manifest.update(name=name, redirect_url=redirect_url)
    return manifest


def form_page(*, action: str, manifest: dict[str, Any]) -> str:
    """A page whose form posts the manifest to GitHub, sent by a script or the button."""
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>repocrew: create the GitHub App</title></head>
<body>
<h1>Create repocrew's GitHub App</h1>
<p>GitHub will show the App <b>{html.escape(manifest["name"])}</b> with the permissions and
events repocrew needs. Check them and click <i>Create GitHub App</i>.</p>
<form method="post" action="{html.escape(action)}">
<input type="hidden" name="manifest" value="{html.escape(json.dumps(manifest))}">
<button type="submit">Create the GitHub App on GitHub</button>
</form>
<script>document.forms[0].submit()</script>
</body></html>
"""


def message_page(title: str, text: str) -> str:
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"</head><body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>\n"
    )


# One assignment in an env file: `KEY=value`, optionally `export`ed; a quoted value may span lines.
ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(['\"]?)")


def _entries(text: str) -> list[tuple[str | None, str]]:
    """The file as (key or None, its lines) pieces, so a multi-line value moves as one."""
    pieces: list[tuple[str | None, str]] = []
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        match = ASSIGNMENT.match(lines[i])
        if match is None:
            pieces.append((None, lines[i]))
            i += 1
            continue
        quote_char, end = match.group(2), i
        rest = lines[i][match.end() :]
        if quote_char and quote_char not in rest:
            while end + 1 < len(lines) and quote_char not in lines[end + 1]:
                end += 1
            end = min(end + 1, len(lines) - 1)
        pieces.append((match.group(1), "".join(lines[i : end + 1])))
        i = end + 1
    return pieces


def _quoted(value: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_./:@+-]*", value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def merge_env(text: str, values: dict[str, str], *, remove: tuple[str, ...] = ()) -> str:
    """`text` with each key of `values` set in place (or appended) and `remove`d keys gone."""
    done: set[str] = set()
    out = []
    for key, piece in _entries(text):
        if key in remove or key in done:
            continue
        if key in values:
            out.append(f"{key}={_quoted(values[key])}\n")
            done.add(key)
        else:
            out.append(piece if piece.endswith("\n") else piece + "\n")
    out += [f"{key}={_quoted(value)}\n" for key, value in values.items() if key not in done]
    return "".join(out)


def write_secret_file(path: Path, text: str) -> None:
    """Replace `path` atomically with a file only its owner may read (0600 from the start)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(descriptor, SECRET_MODE)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    path.chmod(SECRET_MODE)


def exchange_code(api_url: str, code: str) -> dict[str, Any]:
    """POST /app-manifests/{code}/conversions: the App with its `pem` and `webhook_secret`."""
    url = f"{api_url.rstrip('/')}/app-manifests/{quote(code, safe='')}/conversions"
    try:
        response = httpx.post(
            url, headers={"Accept": "application/vnd.github+json"}, timeout=TIMEOUT
        )
    except httpx.HTTPError as error:
        raise SetupError(f"cannot reach {api_url}: {error}") from error
    if response.status_code == 404:
        raise SetupError("GitHub no longer knows this code (used, or older than an hour)")
    if response.status_code != 201:
        raise SetupError(f"GitHub refused the code exchange: HTTP {response.status_code}")
    try:
        app = response.json()
        missing = [key for key in ("id", "slug", "pem") if key not in app]
    except (ValueError, TypeError) as error:
        raise SetupError("GitHub's answer to the code exchange is not an App") from error
    if missing:
        raise SetupError(f"GitHub's answer to the code exchange lacks {', '.join(missing)}")
    return app


def save_credentials(app: dict[str, Any], *, env_file: Path, api_url: str) -> CreatedApp:
    """The key beside the env file and the App's settings in it, both mode 0600."""
    key_file = (env_file.parent / f"{app['slug']}.private-key.pem").resolve()
    write_secret_file(key_file, app["pem"])
    values = {
        "REPOCREW_GITHUB_APP_ID": str(app["id"]),
        "REPOCREW_GITHUB_PRIVATE_KEY_PATH": str(key_file),
    }
    if app.get("webhook_secret"):
        values["REPOCREW_GITHUB_WEBHOOK_SECRET"] = app["webhook_secret"]
    if api_url.rstrip("/") != GITHUB_API_URL:
        values["REPOCREW_GITHUB_API_URL"] = api_url.rstrip("/")
    old = env_file.read_text(encoding="utf-8") if env_file.exists() else ""
    # an inline key would win over the new key file (Settings prefers it): drop it
    write_secret_file(env_file, merge_env(old, values, remove=("REPOCREW_GITHUB_PRIVATE_KEY",)))
    return CreatedApp(app["id"], app["slug"], app.get("html_url", ""), env_file, key_file)


@dataclass
class Flow:
    """One run of the flow: what the local pages need and how it ended."""

    public_url: str
    github_url: str
    api_url: str
    env_file: Path
    name: str
    org: str | None = None
    state: str = ""
    callback: str = ""
    result: CreatedApp | None = None
    error: str | None = None

    def __post_init__(self) -> None:
        self.state = self.state or secrets.token_urlsafe(24)
        self.finished = threading.Event()
        self.lock = threading.Lock()  # one code exchange at a time

    @property
    def action(self) -> str:
        where = f"/organizations/{quote(self.org)}" if self.org else ""
        return f"{self.github_url.rstrip('/')}{where}/settings/apps/new?state={self.state}"

    @property
    def done(self) -> bool:
        return self.result is not None or self.error is not None

    def install_url(self, created: CreatedApp) -> str:
        return f"{self.github_url.rstrip('/')}/apps/{created.slug}/installations/new"

    def index(self) -> tuple[int, str]:
        manifest = build_manifest(self.public_url, redirect_url=self.callback, name=self.name)
        return 200, form_page(action=self.action, manifest=manifest)

    def complete(self, query: dict[str, list[str]]) -> tuple[int, str]:
        with self.lock:
            return self._complete(query)

    def _complete(self, query: dict[str, list[str]]) -> tuple[int, str]:
        state, code = query.get("state", [""])[0], query.get("code", [""])[0]
        if not code or not secrets.compare_digest(state, self.state):
            return 400, message_page("Not this flow", "The state does not match: start again.")
        if self.done:
            return 409, message_page("Already done", "This flow has finished.")
        try:
            app = exchange_code(self.api_url, code)
            self.result = save_credentials(app, env_file=self.env_file, api_url=self.api_url)
        except (SetupError, OSError) as error:
            self.error = str(error)
            return 502, message_page("The App's credentials were not saved", self.error)
        text = (
            f"App {self.result.slug} (id {self.result.app_id}) is created and its credentials "
            f"are in {self.result.env_file}. Next: install it at {self.install_url(self.result)}"
        )
        return 200, message_page("Done", text)


def _handler(flow: Flow) -> type[BaseHTTPRequestHandler]:
    routes: dict[str, Callable[[dict[str, list[str]]], tuple[int, str]]] = {
        "/": lambda _query: flow.index(),
        "/callback": flow.complete,
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            url = urlsplit(self.path)
            page = routes.get(url.path)
            status, body = page(parse_qs(url.query)) if page else (404, message_page("404", ""))
            content = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(content)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(content)
            self.wfile.flush()
            if flow.done:  # answered: now the command may stop the server and exit
                flow.finished.set()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            """Silent: a request line carries the one-time code."""

    return Handler


def run_flow(flow: Flow, *, port: int, say: Callable[[str], None], timeout: float) -> CreatedApp:
    """Serve the flow on loopback until GitHub redirects back (or `timeout` seconds pass)."""
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), _handler(flow))
    except OSError as error:
        raise SetupError(f"cannot listen on 127.0.0.1:{port}: {error.strerror}") from error
    local = f"http://127.0.0.1:{server.server_address[1]}"
    flow.callback = f"{local}/callback"
    thread = threading.Thread(target=server.serve_forever, name="setup-github", daemon=True)
    thread.start()
    try:
        say(f"Open {local}/ in a browser signed in to {flow.github_url} to create the App.")
        if not flow.finished.wait(timeout):
            raise SetupError(f"no answer from GitHub within {timeout:.0f} s: run it again")
    finally:
        server.shutdown()
        server.server_close()
    if flow.error or flow.result is None:
        raise SetupError(flow.error or "the flow ended without credentials")
    return flow.result
