"""Untrusted code under the sandbox: it runs tests, and cannot reach out, leak, escape or hog."""

from __future__ import annotations

import os
import socket
import sys
import time
import uuid
from pathlib import Path

import pytest

from bot.roster.models import DEFAULT_TEST_COMMAND
from bot.sandbox import (
    SandboxLimits,
    SandboxUnavailable,
    parse_test_output,
    run_sandboxed,
    sandbox_status,
)
from bot.sandbox.bwrap import PRIVATE_TMP
from bot.sandbox.capture import OutputCapture
from bot.sandbox.limits import classify_limit
from tests.conftest import REPO

PYTEST = (sys.executable, *DEFAULT_TEST_COMMAND[1:])
QUICK = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}  # the caller's env reaches the sandbox
MISSING_BWRAP = "/nonexistent/bwrap"
SECRET_NAME = "REPOCREW_TEST_PLANTED_SECRET"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A workspace for a sandboxed run; a skip (a failure where required) without a sandbox."""
    status = sandbox_status()
    if not status.available:
        if os.environ.get("REPOCREW_REQUIRE_SANDBOX") == "1":
            pytest.fail(f"sandbox required but unavailable: {status.reason}")
        pytest.skip(f"no sandbox on this host: {status.reason}")
    path = tmp_path / "workspace"
    path.mkdir()
    return path


def _python(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", code, *args]


def _processes_with(marker: str) -> list[int]:
    """Live host processes whose command line holds `marker` (zombies have none)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _gone(marker: str, within: float = 2.0) -> bool:
    deadline = time.monotonic() + within
    while _processes_with(marker):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except (ProcessLookupError, FileNotFoundError):
        return False


# -- real test projects ---------------------------------------------------------------------


def test_a_passing_pytest_project_passes(workspace):
    (workspace / "test_ok.py").write_text("def test_ok():\n    assert 2 + 2 == 4\n")
    result = run_sandboxed(PYTEST, workspace=workspace, env=QUICK)
    assert result.sandboxed and result.passed, result.output
    assert (result.timed_out, result.limit_hit) == (False, None)
    report = parse_test_output(result.output)
    assert report.ok and report.passed == 1
    assert not (workspace / ".pytest_cache").exists()


def test_a_failing_pytest_project_fails_with_its_failure(workspace):
    (workspace / "test_sum.py").write_text(
        "def test_sum():\n    total = 2 + 2\n    assert total == 5\n"
    )
    result = run_sandboxed(PYTEST, workspace=workspace, env=QUICK)
    assert result.exit_code == 1 and not result.passed and result.limit_hit is None
    [failure] = parse_test_output(result.output).failures
    assert failure.message == "AssertionError: assert 4 == 5"
    assert (failure.test_id, failure.path, failure.line) == (
        "test_sum.py::test_sum",
        "test_sum.py",
        3,
    )


# -- nothing gets out -----------------------------------------------------------------------

NETWORK = """
import socket, sys, urllib.request
port = int(sys.argv[1])
try:
    socket.create_connection(("127.0.0.1", port), timeout=3).close()
    print("CONNECTED to the host's listener")
except OSError as error:
    print("tcp refused:", error)
for url in ("http://example.com/", "http://1.1.1.1/", f"http://127.0.0.1:{port}/"):
    try:
        urllib.request.urlopen(url, timeout=3)
        print("CONNECTED", url)
    except OSError as error:
        print("refused", url, error)
"""


def test_the_network_is_out_of_reach(workspace):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = run_sandboxed(_python(NETWORK, str(port)), workspace=workspace)
        listener.settimeout(0.2)
        with pytest.raises(TimeoutError):
            listener.accept()
    assert result.passed, result.output
    assert "CONNECTED" not in result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("tcp refused") and len(lines) == 4
    assert all(line.startswith("refused http") for line in lines[1:])


ENVIRON = """
import glob, os
name, value = "REPOCREW_TEST_PLANTED_SECRET", "{value}"
print("env:", sorted(os.environ))
print("pid 1:", open("/proc/1/environ", "rb").read().split(b"\\0"))
for path in ["/proc/self/environ", *glob.glob("/proc/[0-9]*/environ")]:
    try:
        data = open(path, "rb").read()
    except OSError:
        continue
    if name.encode() in data or value.encode() in data:
        print("LEAKED in", path)
if name in os.environ:
    print("LEAKED in os.environ")
"""


def test_the_host_environment_stays_out(workspace, monkeypatch):
    secret = uuid.uuid4().hex
    monkeypatch.setenv(SECRET_NAME, secret)
    result = run_sandboxed(_python(ENVIRON.replace("{value}", secret)), workspace=workspace)
    assert result.passed, result.output
    assert "LEAKED" not in result.output
    pid_one = next(line for line in result.output.splitlines() if line.startswith("pid 1:"))
    # The sandbox's own init, whose environment is the clean one the runner built.
    assert "b'PYTHONDONTWRITEBYTECODE=1'" in pid_one and "b'HOME=/tmp'" in pid_one
    assert SECRET_NAME not in pid_one


WRITE = """
import sys
for target in sys.argv[1:]:
    try:
        with open(target, "w") as handle:
            handle.write("escaped")
        print("WROTE", target)
    except OSError as error:
        print("refused", target, error)
"""


def test_nothing_outside_the_workspace_is_written(workspace, tmp_path):
    (tmp_path / "outside").mkdir()
    marker = f"repocrew-planted-{uuid.uuid4().hex[:8]}"
    refused = [
        tmp_path / "outside" / marker,  # a host directory beside the workspace
        Path("/etc") / marker,
        Path.home() / marker,
        Path(sys.prefix) / marker,  # the Python in use: bound, read-only
    ]
    # The workspace's parent is, inside, only a directory of the sandbox's private /tmp: a
    # write there may succeed and must still never reach the host.
    private = [tmp_path / marker]
    # The bot's own checkout is not in the sandbox at all; a checkout that lives under /tmp
    # (a clone in the system temporary directory) is a private /tmp path like the one above.
    checkout = REPO / marker
    (private if checkout.is_relative_to(PRIVATE_TMP) else refused).append(checkout)
    inside = workspace / marker
    try:
        targets = [*refused, *private, inside]
        result = run_sandboxed(_python(WRITE, *map(str, targets)), workspace=workspace)
        assert result.passed, result.output
        for path in refused:
            assert f"refused {path}" in result.output
        for path in [*refused, *private]:
            assert not path.exists(), path
        assert inside.read_text() == "escaped"
    finally:
        for path in refused + private:
            path.unlink(missing_ok=True)


def test_host_files_outside_the_binds_are_not_there(workspace):
    probe = "import sys, os; print([os.path.exists(p) for p in sys.argv[1:]])"
    paths = [REPO / "pyproject.toml", "/etc/shadow", "/run", sys.executable]
    result = run_sandboxed(_python(probe, *map(str, paths)), workspace=workspace)
    shadow = Path("/etc/shadow").exists()  # masked, not removed
    assert result.output.strip() == f"[False, {shadow}, False, True]", result.output
    result = run_sandboxed(["cat", "/etc/shadow"], workspace=workspace)
    assert result.exit_code != 0 and "root:" not in result.output


# -- nothing hogs the host ------------------------------------------------------------------

# Bounded, so that a sandbox that fails to hold it fails the test, not the host.
FORK_BOMB = """
import os, time
for _ in range(1000):
    if os.fork() == 0:
        time.sleep(60)
        os._exit(0)
print("forked 1000 processes")
"""


def test_a_fork_bomb_is_held_by_the_process_limit(workspace):
    marker = f"bomb-{uuid.uuid4().hex[:8]}"
    limits = SandboxLimits(processes=48, wall_seconds=20)
    result = run_sandboxed(_python(FORK_BOMB, marker), workspace=workspace, limits=limits)
    assert result.limit_hit == "processes", result.output
    assert "forked 1000" not in result.output
    assert not result.timed_out and result.duration_seconds < 10
    assert _gone(marker)


def test_a_memory_eater_is_held_by_the_memory_limit(workspace):
    eat = "chunks = [bytearray(64 * 1024**2) for _ in range(64)]\nprint('ate 4 GiB')"
    limits = SandboxLimits(memory_bytes=512 * 1024**2, wall_seconds=20)
    result = run_sandboxed(_python(eat), workspace=workspace, limits=limits)
    assert result.limit_hit == "memory", result.output
    assert "ate 4 GiB" not in result.output and not result.passed


def test_a_busy_loop_hits_the_cpu_limit(workspace):
    limits = SandboxLimits(cpu_seconds=1, wall_seconds=10)
    result = run_sandboxed(_python("while True: pass"), workspace=workspace, limits=limits)
    assert (result.limit_hit, result.timed_out) == ("cpu_time", False), result


SLEEPER = """
import os, time
if os.fork() == 0:
    os.setsid()  # out of the process group: only the pid namespace can still reach it
print("sleeping", flush=True)
time.sleep(100)
"""


def test_a_sleeper_hits_the_wall_time_and_leaves_nothing_behind(workspace):
    marker = f"sleeper-{uuid.uuid4().hex[:8]}"
    limits = SandboxLimits(wall_seconds=1)
    result = run_sandboxed(_python(SLEEPER, marker), workspace=workspace, limits=limits)
    assert (result.timed_out, result.limit_hit, result.exit_code) == (True, "wall_time", None)
    assert result.duration_seconds < 4
    assert "sleeping" in result.output  # what was said before the kill is kept
    assert _gone(marker)


def test_an_output_flood_is_cut_keeping_both_ends(workspace):
    flood = "import sys\nprint('FIRST')\nsys.stdout.write('x' * 5_000_000)\nprint('\\nLAST')"
    limits = SandboxLimits(output_bytes=10_000)
    result = run_sandboxed(_python(flood), workspace=workspace, limits=limits)
    assert result.passed and result.output_truncated
    assert len(result.output) < 10_200
    assert result.output.startswith("FIRST") and result.output.rstrip().endswith("LAST")
    assert "bytes of output truncated" in result.output


# -- without bubblewrap ---------------------------------------------------------------------


def test_without_bwrap_it_refuses_and_says_what_to_install(tmp_path):
    status = sandbox_status(MISSING_BWRAP)
    assert not status.available and "apt install bubblewrap" in status.reason
    with pytest.raises(SandboxUnavailable, match="apt install bubblewrap"):
        run_sandboxed(["true"], workspace=tmp_path, bwrap=MISSING_BWRAP)


def test_a_bwrap_that_cannot_make_namespaces_is_reported_with_what_to_configure(tmp_path):
    status = sandbox_status("false")  # found, runs, and fails the way a refused unshare does
    assert not status.available and "cannot sandbox here" in status.reason
    assert "user namespaces" in status.reason
    with pytest.raises(SandboxUnavailable, match="user namespaces"):
        run_sandboxed(["true"], workspace=tmp_path, bwrap="false")


UNSANDBOXED = """
import os, resource, sys, time
print("as", resource.getrlimit(resource.RLIMIT_AS)[0], "leaked", sys.argv[1] in os.environ)
if os.fork() == 0:
    open("child.pid", "w").write(str(os.getpid()))
else:
    open("parent.pid", "w").write(str(os.getpid()))
time.sleep(100)
"""


def test_allowed_unsandboxed_it_still_limits_cleans_and_kills(tmp_path, monkeypatch):
    monkeypatch.setenv(SECRET_NAME, "hunter2")
    limits = SandboxLimits(memory_bytes=1024**3, wall_seconds=1)
    result = run_sandboxed(
        _python(UNSANDBOXED, SECRET_NAME),
        workspace=tmp_path,
        limits=limits,
        bwrap=MISSING_BWRAP,
        allow_unsandboxed=True,
    )
    assert not result.sandboxed
    assert f"as {1024**3} leaked False" in result.output
    assert (result.timed_out, result.limit_hit) == (True, "wall_time")
    for name in ("parent.pid", "child.pid"):
        pid = int((tmp_path / name).read_text())
        assert not _alive(pid), name


def test_allowed_unsandboxed_a_missing_command_is_exit_127(tmp_path):
    result = run_sandboxed(
        ["/nonexistent/tool"], workspace=tmp_path, bwrap=MISSING_BWRAP, allow_unsandboxed=True
    )
    assert result.exit_code == 127 and "cannot run /nonexistent/tool" in result.output


# -- the pieces -----------------------------------------------------------------------------


def test_output_capture_keeps_head_and_tail():
    capture = OutputCapture(10)
    for chunk in (b"abc", b"defgh", b"ijklmnop", b"qrstuvwxyz"):
        capture.feed(chunk)
    assert capture.truncated and (capture.head, capture.tail) == (b"abcde", b"vwxyz")
    assert capture.text() == "abcde\n[... repocrew: 16 bytes of output truncated ...]\nvwxyz"
    whole = OutputCapture(10)
    whole.feed(b"0123456789")
    assert not whole.truncated and whole.text() == "0123456789"


@pytest.mark.parametrize(
    ("exit_code", "output", "timed_out", "forks_refused", "expected"),
    [
        (0, "MemoryError", False, 3, None),
        (None, "", True, 0, "wall_time"),
        (None, "", True, 5, "processes"),
        (152, "", False, 0, "cpu_time"),
        (153, "", False, 0, "file_size"),
        (137, "", False, 0, "memory"),
        (1, "E   MemoryError", False, 0, "memory"),
        (1, "BlockingIOError: [Errno 11] Resource temporarily unavailable", False, 0, "processes"),
        (1, "AssertionError: assert 1 == 2", False, 0, None),
    ],
)
def test_limit_hit_is_read_from_the_evidence(exit_code, output, timed_out, forks_refused, expected):
    found = classify_limit(
        exit_code=exit_code, output=output, timed_out=timed_out, forks_refused=forks_refused
    )
    assert found == expected
