"""Intake benchmark: signed GitHub webhooks through the real app versus a bare FastAPI endpoint.

Two servers run one after the other, each a single uvicorn process (uvloop + httptools, no
access log) pinned to CPU 0; `wrk` drives each from CPU 1 with 16 connections:

* real: `create_app()` on a fresh SQLite file (WAL, synchronous=FULL, group commit), with the
  webhook secret set and no worker or scheduler, so only intake is measured: read the body,
  verify X-Hub-Signature-256, parse, commit delivery + job, answer 202;
* bare: one `POST /github/webhook` that answers 202 with a tiny JSON body and does nothing else.

Every request is an ~8 KB `issues` `opened` payload with a valid signature and a unique
X-GitHub-Delivery. Afterwards the real app's `delivery` and `job` rows must number at least the
2xx answers wrk counted (nothing is acknowledged before it is on disk).

Target (SQLite, 1 server process, 16 connections, 8 KB signed payloads):
rps_ratio >= 0.6 and p99_ms <= 25. The last line printed is machine-readable:
`intake: rps_ratio=<real/bare> p99_ms=<real p99> bare_rps=<int> real_rps=<int>`.

    .venv/bin/python bench/intake.py --seconds 10
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-webhook-secret"


def real_app():
    """uvicorn factory: the real app, configured from REPOCREW_* variables, intake only."""
    from bot.settings import load_settings
    from webhooks.app import create_app

    return create_app(load_settings())


def bare_app():
    """uvicorn factory: the floor to compare with; same route, no verification, no store."""
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    app = FastAPI()
    app.get("/healthz")(lambda: {"status": "ok"})

    @app.post("/github/webhook")
    async def webhook() -> JSONResponse:
        return JSONResponse({"status": "queued"}, status_code=202)

    return app


def payload(size: int) -> bytes:
    """A realistic `issues` `opened` payload whose issue body pads it to `size` bytes."""
    user = {"login": "octocat", "id": 583231, "type": "User", "site_admin": False}
    repo, stamp = "octo-org/hello-world", "2024-05-01T12:00:00Z"
    issue = {"id": 1, "node_id": "MDU6SXNzdWUx", "number": 1347, "title": "Found a bug"}
    issue |= {"url": f"https://api.github.com/repos/{repo}/issues/1347", "user": user}
    issue |= {"labels": [], "assignees": [], "state": "open", "locked": False, "comments": 0}
    issue |= {"author_association": "OWNER", "created_at": stamp, "updated_at": stamp}
    repository = {"id": 1296269, "name": "hello-world", "full_name": repo, "private": False}
    repository |= {"owner": user, "default_branch": "main", "visibility": "public"}
    installation = {"id": 1, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="}
    data = {"action": "opened", "issue": issue | {"body": ""}, "repository": repository}
    data |= {"sender": user, "installation": installation}
    base = len(json.dumps(data, separators=(",", ":")))
    filler = "Steps to reproduce: open the page, click the button, watch it fail. "
    data["issue"]["body"] = (filler * (size // len(filler) + 1))[: max(size - base, 0)]
    return json.dumps(data, separators=(",", ":")).encode()


def lua_script(body: bytes, prefix: str) -> str:
    """wrk script: fixed signed body, a unique delivery id per request, key=value summary."""
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    level = next(n for n in range(1, 20) if f"]{'=' * n}]" not in body.decode())
    open_, close = f"[{'=' * level}[", f"]{'=' * level}]"
    return f"""
local next_id = 1
function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
end
function init(args)
  sent = 0
  prefix = "{prefix}-" .. tid .. "-"
end
wrk.method = "POST"
wrk.path = "/github/webhook"
wrk.body = {open_}{body.decode()}{close}
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-GitHub-Event"] = "issues"
wrk.headers["X-Hub-Signature-256"] = "{signature}"
function request()
  sent = sent + 1
  wrk.headers["X-GitHub-Delivery"] = prefix .. sent
  return wrk.format()
end
function done(summary, latency, requests)
  local e = summary.errors
  -- wrk counts every status > 399 in errors.status (threads are separate Lua states).
  io.write(string.format("requests=%d duration_us=%d non2xx=%d errors=%d p50_us=%d p99_us=%d\\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(factory: str, port: int, env: dict, log: Path) -> subprocess.Popen:
    command = ["taskset", "-c", "0", sys.executable, "-m", "uvicorn", "--factory", factory]
    command += ["--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop"]
    command += ["--http", "httptools", "--no-access-log", "--log-level", "warning"]
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.1)
    stop_server(server)
    sys.exit(f"{factory} did not become ready; its log:\n{log.read_text()[-3000:]}")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def run_wrk(wrk: str, port: int, script: Path, args: argparse.Namespace) -> dict[str, int]:
    command = ["taskset", "-c", "1", wrk, "-t2", f"-c{args.connections}"]
    command += [f"-d{args.seconds}s", "--timeout", "10s", "--latency", "-s", str(script)]
    command.append(f"http://127.0.0.1:{port}/github/webhook")
    done = subprocess.run(command, capture_output=True, text=True, timeout=args.seconds + 60)
    found = re.search(r"^requests=\d+ .*$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or not found:
        sys.exit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", found.group(0))}


def count_rows(database: Path) -> tuple[int, int]:
    """Committed `delivery` and `job` rows, read through a separate read-only connection."""
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        count = "SELECT (SELECT count(*) FROM delivery), (SELECT count(*) FROM job)"
        return db.execute(count).fetchone()
    finally:
        db.close()


def describe(name: str, stats: dict[str, int]) -> float:
    rps = stats["requests"] / (stats["duration_us"] / 1e6)
    print(
        f"{name}: {stats['requests']} requests in {stats['duration_us'] / 1e6:.1f} s = {rps:.0f}"
        f" rps, p50 {stats['p50_us'] / 1000:.1f} ms, p99 {stats['p99_us'] / 1000:.1f} ms,"
        f" non-2xx {stats['non2xx']}, socket errors {stats['errors']}"
    )
    return rps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per server")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--payload-bytes", type=int, default=8192, help="webhook body size")
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None or shutil.which("taskset") is None:
        sys.exit("wrk and taskset are needed: apt-get install wrk util-linux")

    with tempfile.TemporaryDirectory(prefix="repocrew-bench-") as tmp:
        body = payload(args.payload_bytes)
        script = Path(tmp, "intake.lua")
        script.write_text(lua_script(body, uuid.uuid4().hex[:12]))
        database = Path(tmp, "intake.db")
        env = {k: v for k, v in os.environ.items() if not k.startswith("REPOCREW_")}
        env |= {
            "REPOCREW_DATABASE_URL": f"sqlite:///{database}",
            "REPOCREW_GITHUB_WEBHOOK_SECRET": SECRET,
            "REPOCREW_LOG_LEVEL": "WARNING",
        }
        print(f"payload {len(body)} bytes, {args.connections} connections, {args.seconds} s each")
        results = {}
        for name, factory in (("bare", "bench.intake:bare_app"), ("real", "bench.intake:real_app")):
            port, log = free_port(), Path(tmp, f"{name}.log")
            server = start_server(factory, port, env, log)
            try:
                results[name] = run_wrk(wrk, port, script, args)
                if name == "real":  # count while the server still runs: acknowledged = on disk
                    rows = count_rows(database)
            finally:
                stop_server(server)
            if log.read_text().strip():
                print(f"{name} server log (tail):\n{log.read_text()[-2000:]}")

    bare_rps = describe("bare", results["bare"])
    real_rps = describe("real", results["real"])
    real = results["real"]
    acknowledged = real["requests"] - real["non2xx"]
    durable = min(rows) >= acknowledged
    print(
        f"durability: delivery={rows[0]} job={rows[1]} rows vs {acknowledged} 2xx answers:"
        f" {'ok' if durable else 'FAIL, acknowledged deliveries are missing'}"
    )
    ratio = real_rps / bare_rps if bare_rps else 0.0
    print(
        f"intake: rps_ratio={ratio:.2f} p99_ms={real['p99_us'] / 1000:.1f}"
        f" bare_rps={bare_rps:.0f} real_rps={real_rps:.0f}"
    )
    return 0 if durable else 1


if __name__ == "__main__":
    sys.exit(main())
