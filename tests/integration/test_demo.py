"""`repocrew demo`: the whole crew against the emulators, read back from the emulators."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import time

import httpx
import pytest

from bot.sandbox import sandbox_status
from emulators.server import free_port
from tests.conftest import REPO

REPOCREW = str(REPO / ".venv" / "bin" / "repocrew")


@pytest.mark.skipif(not sandbox_status().available, reason="no sandbox for the tester")
def test_the_demo_runs_the_whole_crew_and_reports_what_the_emulators_saw(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPOCREW_", "ANTHROPIC"))}
    result = subprocess.run(
        [REPOCREW, "demo", "--json"],
        cwd=tmp_path,  # no .env, no crew.toml: the packaged default crew
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert summary["run_state"] == "awaiting_human"
    assert summary["pr"] is not None and summary["commits"] == 2
    assert summary["review_comments"] == 1 and summary["checklist_items"] == 6
    assert summary["check_conclusion"] == "success"
    assert summary["votes"] == dict.fromkeys(
        ["coder", "planner", "researcher", "reviewer", "tester"], "approve"
    )
    # The run's thread (the lead's opening and 9 replies), then the standup: the lead opens,
    # the five agents report, the lead sums up.
    assert summary["standup_posts"] == 7
    assert summary["slack_posts"] == 10 + summary["standup_posts"]


@pytest.mark.skipif(not sandbox_status().available, reason="no sandbox for the tester")
def test_the_live_model_is_reached_at_the_configured_base_url(tmp_path):
    """`demo --live-model` sends the model's calls to REPOCREW_ANTHROPIC_BASE_URL (here a
    stand-in on loopback playing the recorded session), streamed where answers may be long."""
    from emulators.anthropic import AnthropicEmulator
    from emulators.anthropic import create_app as anthropic_app
    from emulators.server import running
    from repocrew import demo_session

    stand_in = AnthropicEmulator(demo_session.whole_run_script())
    with running(anthropic_app(stand_in)) as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("REPOCREW_", "ANTHROPIC"))}
        env |= {"ANTHROPIC_API_KEY": "sk-ant-stand-in-0000", "REPOCREW_ANTHROPIC_BASE_URL": url}
        result = subprocess.run(
            [REPOCREW, "demo", "--json", "--live-model"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=110,
            check=False,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout)["run_state"] == "awaiting_human"
    long = [body for body in stand_in.message_bodies() if body["max_tokens"] >= 4096]
    assert long and all(body.get("stream") for body in long)


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPOCREW_", "ANTHROPIC"))}
    return env | extra


def test_without_a_sandbox_the_demo_ends_well_and_its_kept_store_can_be_explored(tmp_path):
    """No bubblewrap (a path where there is none): the demo says so before it starts, the
    tester reports the tests as not run (a skipped check, never a pass) and the run still
    waits for a human; `--keep` leaves a store that `metrics` and `replay` read."""
    kept = tmp_path / "kept"
    env = _clean_env(REPOCREW_SANDBOX_BWRAP=str(tmp_path / "no" / "bwrap"))
    result = subprocess.run(
        [REPOCREW, "demo", "--json", "--keep", str(kept)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    first_line = result.stderr.splitlines()[0]
    assert first_line.startswith("no sandbox: bwrap not found")
    assert "apt install bubblewrap" in first_line
    summary = json.loads(result.stdout)
    assert summary["run_state"] == "awaiting_human"
    assert summary["check_conclusion"] == "skipped"

    from bot.store.engine import make_engine
    from bot.store.run_queries import latest_run
    from bot.store.runs import outputs

    database = f"sqlite:///{kept / 'repocrew.db'}"
    engine = make_engine(database)
    run = latest_run(engine)
    assert run is not None and run.state == "awaiting_human"
    tested = outputs(engine, run.id or 0)["test-1"]
    engine.dispose()
    assert tested["passed"] is False and tested["not_run"].startswith("no sandbox: bwrap")
    assert "apt install bubblewrap" in tested["analysis"]

    explore = env | {"REPOCREW_DATABASE_URL": database}
    metrics = subprocess.run(
        [REPOCREW, "metrics", "--json"], cwd=tmp_path, env=explore, capture_output=True, text=True
    )
    assert metrics.returncode == 0, metrics.stderr[-2000:]
    assert json.loads(metrics.stdout)["prs_opened"] == 1
    replay = subprocess.run(
        [REPOCREW, "replay", str(run.id)],
        cwd=tmp_path,
        env=explore,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert replay.returncode == 0, replay.stderr[-3000:]
    assert f"run {run.id} ended awaiting_human; its replay" in replay.stdout
    assert replay.stdout.rstrip().endswith("ended awaiting_human")


def _lines_of(stream) -> queue.Queue[str]:
    """The stream's lines as they come, read on a thread (a hung process cannot hang us)."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in stream], daemon=True).start()
    return lines


def _until(lines: queue.Queue[str], prefix: str, seen: list[str], timeout: float = 150) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1).rstrip("\n")
        except queue.Empty:
            continue
        seen.append(line)
        if line.startswith(prefix):
            return line.removeprefix(prefix)
    raise AssertionError(f"no line starting {prefix!r} in:\n" + "\n".join(seen[-40:]))


def test_start_without_credentials_serves_the_demos_dashboard_until_ctrl_c(tmp_path):
    """`repocrew start` with no GitHub App: the demo's run waits for a human, then its
    dashboard stays up on the given port with a one-time login link, until SIGINT."""
    port = free_port()
    server = subprocess.Popen(
        [REPOCREW, "start", "--port", str(port)],
        cwd=tmp_path,
        env=_clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # one pipe, always read: a full pipe cannot block the server
        text=True,
    )
    seen: list[str] = []
    try:
        lines = _lines_of(server.stdout)
        dashboard = _until(lines, "Dashboard: ", seen)
        link = _until(lines, "Log in once with: ", seen)
        assert "run 1: awaiting_human" in seen
        assert any(line.startswith("PR #2: ") for line in seen)
        assert dashboard == f"http://127.0.0.1:{port}/dashboard/runs/1"
        with httpx.Client(timeout=10) as browser:
            refused = browser.get(dashboard)  # not logged in yet
            assert refused.status_code == 303
            assert refused.headers["location"].startswith("/dashboard/login")
            assert browser.get(link, follow_redirects=True).status_code == 200
            page = browser.get(dashboard)
            assert page.status_code == 200, page.text[:500]
            assert "Add input validation to parse_age" in page.text
            assert "awaiting_human" in page.text
        assert httpx.get(link, timeout=10).status_code == 404  # the link works once
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0
        assert _until(lines, "stopped", seen, timeout=5) == ""
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        server.stdout.close()  # type: ignore[union-attr]
