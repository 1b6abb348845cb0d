"""A set-up in the sandbox reaches the allowlisted registries through the host's proxy, and no more.

Local servers on loopback stand in for registries: the proxy runs on the host, so an allowlisted
`127.0.0.1:<port>` is reachable through it, while the sandbox's own loopback is its own.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import sys
import time
from pathlib import Path

import pytest

from bot.environments.allowlist import Allowlist, parse_request
from bot.environments.proxy import RegistryProxy
from bot.sandbox import RegistryAccess, SandboxLimits, run_sandboxed, sandbox_status
from tests.support.registries import (
    Listener,
    build_wheel,
    echo_server,
    host_proxy,
    npm_package,
    read_head,
    serve_directory,
    simple_index,
)

MISSING_BWRAP = "/nonexistent/bwrap"
FAKE_TOKEN = "xoxb-1111111111-2222222222-planted0secret0value"
PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
    "npm_config_proxy",
    "npm_config_https_proxy",
)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A workspace for a sandboxed run; a skip (a failure where required) without a sandbox."""
    status = sandbox_status()
    if not status.available:
        if os.environ.get("REPOCREW_REQUIRE_SANDBOX") == "1":
            pytest.fail(f"sandbox required but unavailable: {status.reason}")
        pytest.skip(f"no sandbox on this host (bwrap cannot run here): {status.reason}")
    path = tmp_path / "workspace"
    path.mkdir()
    return path


@pytest.fixture
def registry(tmp_path: Path):
    """A local "registry": a directory served over HTTP; (port, request lines it answered)."""
    root = tmp_path / "registry"
    root.mkdir()
    (root / "hello.txt").write_text("hello from the registry\n")
    with serve_directory(root) as served:
        yield served


def _python(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", code, *args]


FETCH = """
import sys, urllib.error, urllib.request
for url in sys.argv[1:]:
    try:
        print("GOT", urllib.request.urlopen(url, timeout=10).read().decode().strip())
    except urllib.error.HTTPError as error:
        print("FAILED", url, error, error.read().decode().strip())
        sys.exit(3)
    except OSError as error:
        print("FAILED", url, error)
        sys.exit(3)
"""


# -- through the proxy ----------------------------------------------------------------------


def test_a_setup_fetches_from_an_allowlisted_registry(workspace, registry):
    port, seen = registry
    url = f"http://127.0.0.1:{port}/hello.txt"
    with RegistryProxy(allow=[f"http://127.0.0.1:{port}/"]) as proxy:
        result = run_sandboxed(_python(FETCH, url), workspace=workspace, network=proxy.access())
        assert result.passed, result.output
        assert result.output.strip() == "GOT hello from the registry"
        if shutil.which("curl"):
            curl = run_sandboxed(["curl", "-sSf", url], workspace=workspace, network=proxy.access())
            assert curl.passed and curl.output == "hello from the registry\n", curl.output
        assert proxy.refused == []
    # Through the proxy: Host is the destination that was checked.
    assert seen[0] == f"GET /hello.txt HTTP/1.1 | Host: 127.0.0.1:{port}"


def test_a_destination_off_the_list_is_refused_and_never_contacted(workspace, registry):
    port, _ = registry
    other = Listener()
    urls = [
        f"http://127.0.0.1:{other.port}/",  # another local server
        "http://registry.invalid/simple/",  # a name: refused before any lookup (else 502)
        f"https://127.0.0.1:{other.port}/",  # CONNECT, the same destination: recorded once
        "https://registry.invalid/",  # CONNECT, another port: another entry
    ]
    try:
        with RegistryProxy(allow=[f"127.0.0.1:{port}"]) as proxy:
            results = [
                run_sandboxed(_python(FETCH, url), workspace=workspace, network=proxy.access())
                for url in urls
            ]
            refused = proxy.refused
        assert other.touched() is False
    finally:
        other.close()
    for result in results:
        assert result.exit_code == 3 and "403" in result.output, result.output
    assert "not on the registry allowlist" in results[0].output  # the 403's reason
    expected = [f"127.0.0.1:{other.port}", "registry.invalid:80", "registry.invalid:443"]
    assert refused == expected  # in order, once each


TUNNEL = """
import os, socket, sys
echo = int(sys.argv[1])
try:
    socket.create_connection(("127.0.0.1", echo), timeout=2)
    print("DIRECT connection to the echo server")
except OSError:
    print("no direct route")
proxy = int(os.environ["HTTPS_PROXY"].rsplit(":", 1)[1])
tunnel = socket.create_connection(("127.0.0.1", proxy), timeout=10)
tunnel.sendall(f"CONNECT 127.0.0.1:{echo} HTTP/1.1\\r\\n\\r\\n".encode())
reply = b""
while b"\\r\\n\\r\\n" not in reply:
    reply += tunnel.recv(1024)
print(reply.split(b"\\r\\n")[0].decode())
payload = os.urandom(300_000)
tunnel.sendall(payload)
got = b""
while len(got) < len(payload):
    got += tunnel.recv(65536)
print("echoed", len(got), got == payload)
tunnel.shutdown(socket.SHUT_WR)
print("closed after us", tunnel.recv(10) == b"")
"""


def test_an_https_tunnel_carries_bytes_both_ways(workspace):
    with echo_server() as echo, RegistryProxy(allow=[f"127.0.0.1:{echo}"]) as proxy:
        result = run_sandboxed(
            _python(TUNNEL, str(echo)), workspace=workspace, network=proxy.access()
        )
    assert result.passed, result.output
    assert result.output.splitlines() == [
        "no direct route",  # the sandbox's loopback is its own: only the proxy leads out
        "HTTP/1.1 200 Connection established",
        "echoed 300000 True",
        "closed after us True",
    ]


PROBE = """
import os, glob
print("variables", sorted(v for v in os.environ if "proxy" in v.lower()))
print("socket directory", os.listdir("/run/repocrew/proxy"))
try:
    open("/run/repocrew/proxy/planted", "w")
    print("WROTE beside the socket")
except OSError as error:
    print("read-only", error.errno)
"""


def test_the_setup_sees_the_proxy_variables_and_a_read_only_socket_directory(workspace):
    with RegistryProxy(allow=["pypi.org"]) as proxy:
        directory = proxy.socket_path.parent
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
        assert stat.S_IMODE(proxy.socket_path.stat().st_mode) == 0o600
        result = run_sandboxed(_python(PROBE), workspace=workspace, network=proxy.access())
    assert not directory.exists()
    lines = result.output.splitlines()
    assert lines[0] == f"variables {sorted([*PROXY_VARIABLES, 'NO_PROXY', 'no_proxy'])}"
    assert lines[1:] == ["socket directory ['proxy.sock']", "read-only 30"], result.output


def test_exit_codes_pass_through_the_bridge(workspace):
    with RegistryProxy(allow=[]) as proxy:
        access = proxy.access()
        codes = [
            run_sandboxed(command, workspace=workspace, network=access).exit_code
            for command in (["sh", "-c", "exit 7"], ["sh", "-c", "kill -9 $$"], ["true"])
        ]
        missing = run_sandboxed(["/nonexistent/tool"], workspace=workspace, network=access)
        slow = run_sandboxed(
            ["sleep", "100"],
            workspace=workspace,
            network=access,
            limits=SandboxLimits(wall_seconds=1),
        )
    assert codes == [7, 137, 0]
    assert missing.exit_code == 127 and "cannot run /nonexistent/tool" in missing.output
    assert (slow.timed_out, slow.limit_hit) == (True, "wall_time") and slow.duration_seconds < 4


# -- without it -----------------------------------------------------------------------------


def test_without_the_network_option_nothing_is_reachable(workspace, registry):
    port, seen = registry
    with RegistryProxy(allow=[f"127.0.0.1:{port}"]):  # running, but not given to the run
        result = run_sandboxed(
            _python(FETCH, f"http://127.0.0.1:{port}/hello.txt"), workspace=workspace
        )
        probe = run_sandboxed(_python(PROBE), workspace=workspace)
    assert result.exit_code == 3 and "Connection refused" in result.output, result.output
    assert seen == []
    assert probe.output.startswith("variables []") and "No such file" in probe.output


# -- secrets ----------------------------------------------------------------------------------

ENVIRON = """
import glob, os, sys
name, value = sys.argv[1], sys.argv[2]
read = []
for path in ["/proc/self/environ", *glob.glob("/proc/[0-9]*/environ")]:
    try:
        data = open(path, "rb").read()
    except OSError:
        continue
    read.append(path)
    if name.encode() in data or value.encode() in data:
        print("LEAKED in", path)
print("read", len(set(read)), "HTTPS_PROXY" in os.environ)
"""


def test_the_hosts_secrets_stay_out_of_the_setup(workspace, monkeypatch):
    monkeypatch.setenv("REPOCREW_SLACK_BOT_TOKEN", FAKE_TOKEN)
    assert os.environ["REPOCREW_SLACK_BOT_TOKEN"] == FAKE_TOKEN
    with RegistryProxy(allow=["pypi.org"]) as proxy:
        result = run_sandboxed(
            _python(ENVIRON, "REPOCREW_SLACK_BOT_TOKEN", FAKE_TOKEN[5:]),
            workspace=workspace,
            network=proxy.access(),
            env={"PIP_NO_INPUT": "1"},  # what the caller passes does arrive
        )
    assert result.passed, result.output
    assert "LEAKED" not in result.output
    # bwrap's init, the bridge, this process and /proc/self: every environment in the sandbox.
    assert result.output.strip() == "read 4 True", result.output


# -- pip, the real client ---------------------------------------------------------------------


SOURCE = 'VALUE = "from the local index"\n'


def _pip(index: str, target: Path) -> list[str]:
    return [
        *(sys.executable, "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check"),
        *("--retries", "0", "--timeout", "10", "--index-url", index, "--target", str(target)),
        "tinyreg",
    ]


def test_pip_installs_from_a_local_index_through_the_proxy(workspace, tmp_path):
    root = tmp_path / "index"
    wheel = build_wheel(tmp_path, "tinyreg", "0.1", SOURCE)
    simple_index(root, wheel, "tinyreg")
    quiet = {"PIP_CONFIG_FILE": os.devnull}  # not the host's pip.conf and its indexes
    other = Listener()
    with serve_directory(root) as (port, seen), RegistryProxy(allow=[f"127.0.0.1:{port}"]) as proxy:
        index = f"http://127.0.0.1:{port}/simple/"
        result = run_sandboxed(
            _pip(index, workspace / "site"), workspace=workspace, network=proxy.access(), env=quiet
        )
        unlisted = run_sandboxed(
            _pip(f"http://127.0.0.1:{other.port}/simple/", workspace / "other"),
            workspace=workspace,
            network=proxy.access(),
            env=quiet,
        )
        refused = proxy.refused
    assert other.touched() is False
    other.close()
    assert result.passed, result.output
    assert "Successfully installed tinyreg-0.1" in result.output
    assert (workspace / "site" / "tinyreg" / "__init__.py").read_text() == SOURCE
    assert [line.split(" ")[1] for line in seen] == ["/simple/tinyreg/", f"/packages/{wheel.name}"]
    assert not unlisted.passed and not (workspace / "other" / "tinyreg").exists()
    assert refused == [f"127.0.0.1:{other.port}"]


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_npm_installs_from_a_local_registry_through_the_proxy(workspace, tmp_path):
    root = tmp_path / "npm"
    root.mkdir()
    (workspace / "package.json").write_text('{"dependencies": {"tinyreg": "0.1.0"}}')
    quiet = {"npm_config_update_notifier": "false", "npm_config_audit": "false"}
    with serve_directory(root) as (port, seen), RegistryProxy(allow=[f"127.0.0.1:{port}"]) as proxy:
        npm_package(root, "tinyreg", "0.1.0", "module.exports = 42;\n", port=port)
        registry = f"--registry=http://127.0.0.1:{port}/"
        result = run_sandboxed(
            ["npm", "install", "--no-fund", registry],
            workspace=workspace,
            network=proxy.access(),
            env=quiet,
        )
    assert result.passed, result.output
    assert (
        workspace / "node_modules" / "tinyreg" / "index.js"
    ).read_text() == "module.exports = 42;\n"
    assert [line.split(" ")[1] for line in seen] == ["/tinyreg", "/tinyreg-0.1.0.tgz"]


def test_without_a_sandbox_the_bridge_still_points_the_setup_at_the_proxy(tmp_path, registry):
    port, _ = registry
    with RegistryProxy(allow=[f"127.0.0.1:{port}"]) as proxy:
        result = run_sandboxed(
            _python(FETCH, f"http://127.0.0.1:{port}/hello.txt"),
            workspace=tmp_path,
            network=proxy.access(),
            bwrap=MISSING_BWRAP,
            allow_unsandboxed=True,
        )
        stale = proxy.access()
    assert not result.sandboxed and result.passed, result.output
    with pytest.raises(ValueError, match="not listening"):
        run_sandboxed(["true"], workspace=tmp_path, network=stale)


# -- the proxy on its own (no sandbox needed) --------------------------------------------------


def _ask(proxy: RegistryProxy, head: bytes, pause: float = 0.0) -> tuple[socket.socket, bytes]:
    client = socket.socket(socket.AF_UNIX)
    try:
        client.settimeout(10)
        client.connect(str(proxy.socket_path))
        time.sleep(pause)
        client.sendall(head)
        return client, read_head(client)
    except BaseException:
        client.close()  # a failure here must not leak a socket into the next test's warnings
        raise


def _status(reply: bytes) -> str:
    return reply.split(b"\r\n", 1)[0].decode()


@pytest.mark.parametrize(
    ("entry", "host", "port", "allowed"),
    [
        ("pypi.org", "pypi.org", 443, True),
        ("pypi.org", "pypi.org", 80, True),
        ("pypi.org", "pypi.org", 22, False),
        ("pypi.org", "evil-pypi.org", 443, False),
        ("pypi.org", "files.pypi.org", 443, False),
        ("PyPI.org.", "pypi.org", 443, True),
        ("*.pythonhosted.org", "files.pythonhosted.org", 443, True),
        ("*.pythonhosted.org", "pythonhosted.org", 443, False),
        ("*.pythonhosted.org", "files.pythonhosted.org.evil.com", 443, False),
        ("registry.example:8443", "registry.example", 8443, True),
        ("registry.example:8443", "registry.example", 443, False),
        ("https://mirror.example:8443/simple", "mirror.example", 8443, True),
        ("https://mirror.example/simple", "mirror.example", 443, True),
        ("127.0.0.1:8080", "127.0.0.1", 8080, True),
        ("[::1]:8080", "::1", 8080, True),
    ],
)
def test_allowlist_entries(entry, host, port, allowed):
    assert Allowlist.parse([entry]).allows(host, port) is allowed


@pytest.mark.parametrize(
    "entry", ["", "pypi.org:0", "pypi.org:99999", "*.127.0.0.1", "ftp://x.org", "a b", "u@x.org"]
)
def test_allowlist_entries_that_are_not_hosts_are_refused(entry):
    with pytest.raises(ValueError):
        Allowlist.parse([entry])
    with pytest.raises(TypeError):
        Allowlist.parse("pypi.org")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        (b"GET /simple/ HTTP/1.1\r\nHost: pypi.org\r\n\r\n", "absolute http:// URL"),
        (b"GET https://pypi.org/ HTTP/1.1\r\n\r\n", "absolute http:// URL"),
        (b"CONNECT pypi.org HTTP/1.1\r\n\r\n", "CONNECT needs host:port"),
        (b"GET http://pypi.org/ HTTP/1.1\r\nX: a\nHost: evil\r\n\r\n", "bare CR, LF or NUL"),
        (b"GET http://pypi.org/ HTTP/1.1\r\n folded\r\n\r\n", "not a header line"),
        (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "not an HTTP/1 proxy request"),
        (b"GET http://pypi.org/\x00 HTTP/1.1\r\n\r\n", "bare CR, LF or NUL"),
    ],
)
def test_malformed_requests_are_answered_400(head, reason):
    with pytest.raises(ValueError, match=reason):
        parse_request(head)
    with RegistryProxy(allow=["pypi.org"], upstream=None) as proxy:
        client, reply = _ask(proxy, head)
        client.close()
        assert _status(reply) == "HTTP/1.1 400 Bad Request" and reason.encode() in reply
        assert proxy.refused == []


def test_plain_requests_go_on_to_the_checked_host_only(registry):
    port, seen = registry
    head = (
        f"GET http://127.0.0.1:{port}/hello.txt HTTP/1.1\r\nHost: evil.example\r\n"
        "Proxy-Authorization: Basic c2VjcmV0\r\nConnection: keep-alive, X-Drop\r\nX-Drop: 1\r\n\r\n"
    ).encode()
    with RegistryProxy(allow=[f"127.0.0.1:{port}"]) as proxy:
        client, reply = _ask(proxy, head)
        while chunk := client.recv(1000):  # to the end: one request per connection
            reply += chunk
        client.close()
    assert _status(reply) == "HTTP/1.0 200 OK"
    assert reply.endswith(b"\r\n\r\nhello from the registry\n")
    assert seen == [f"GET /hello.txt HTTP/1.1 | Host: 127.0.0.1:{port}"]


def test_connections_beyond_the_bound_are_answered_503():
    with (
        echo_server() as echo,
        RegistryProxy(allow=[f"127.0.0.1:{echo}"], max_connections=1) as proxy,
    ):
        connect = f"CONNECT 127.0.0.1:{echo} HTTP/1.1\r\n\r\n".encode()
        first, reply = _ask(proxy, connect)
        with first:
            assert _status(reply) == "HTTP/1.1 200 Connection established"
            # The client may still be sending when the proxy decides: it must read the whole
            # head and answer, not close on it (the client would see a broken pipe, no 503).
            for _ in range(3):
                second, refused = _ask(proxy, connect, pause=0.1)
                with second:
                    assert _status(refused) == "HTTP/1.1 503 Service Unavailable"


def test_an_idle_tunnel_is_closed():
    with (
        echo_server() as echo,
        RegistryProxy(allow=[f"127.0.0.1:{echo}"], idle_seconds=0.3) as proxy,
    ):
        client, reply = _ask(proxy, f"CONNECT 127.0.0.1:{echo} HTTP/1.1\r\n\r\n".encode())
        assert _status(reply) == "HTTP/1.1 200 Connection established"
        started = time.monotonic()
        assert client.recv(10) == b""  # closed by the proxy, not by us or the echo server
        assert 0.25 < time.monotonic() - started < 3
        client.close()


def test_an_allowed_name_that_resolves_to_this_host_is_refused():
    with echo_server() as echo:
        with RegistryProxy(allow=[f"localhost:{echo}"], upstream=None) as proxy:
            client, reply = _ask(proxy, f"CONNECT localhost:{echo} HTTP/1.1\r\n\r\n".encode())
            client.close()
            assert _status(reply) == "HTTP/1.1 403 Forbidden"
            assert b"an address of this host" in reply
            assert proxy.refused == [f"localhost:{echo}"]
        allow = [f"localhost:{echo}", f"127.0.0.1:{echo}", f"[::1]:{echo}"]  # named: meant
        with RegistryProxy(allow=allow, upstream=None) as proxy:
            client, reply = _ask(proxy, f"CONNECT localhost:{echo} HTTP/1.1\r\n\r\n".encode())
            client.close()
            assert _status(reply) == "HTTP/1.1 200 Connection established"


def test_it_chains_through_the_hosts_own_proxy_from_the_environment(monkeypatch):
    with echo_server() as echo, host_proxy({"registry.test:443": echo}) as (upstream, seen):
        monkeypatch.setenv("https_proxy", f"http://bot:p%40ss@127.0.0.1:{upstream}")
        monkeypatch.setenv("no_proxy", "internal.example")
        allow = ["registry.test", "plain.test", "internal.example"]
        with RegistryProxy(allow=allow, connect_seconds=3) as proxy:
            client, reply = _ask(proxy, b"CONNECT registry.test:443 HTTP/1.1\r\n\r\n")
            client.sendall(b"through two proxies")
            assert _status(reply) == "HTTP/1.1 200 Connection established"
            assert client.recv(100) == b"through two proxies"
            client.close()
            plain, answer = _ask(proxy, b"GET http://plain.test/simple/ HTTP/1.1\r\n\r\n")
            plain.close()
            bypass, direct = _ask(proxy, b"CONNECT internal.example:443 HTTP/1.1\r\n\r\n")
            bypass.close()
    auth = "Proxy-Authorization: Basic Ym90OnBAc3M="  # bot:p@ss
    assert seen == [
        f"CONNECT registry.test:443 HTTP/1.1 | {auth}",
        f"GET http://plain.test/simple/ HTTP/1.1 | {auth}",
    ]
    assert _status(answer) == "HTTP/1.1 200 OK"
    # NO_PROXY: dialled directly, so looked up here (and not found): 502, not via the other proxy.
    assert _status(direct) == "HTTP/1.1 502 Bad Gateway"


def test_access_needs_a_running_proxy():
    proxy = RegistryProxy(allow=["pypi.org"])
    with pytest.raises(RuntimeError, match="not running"):
        proxy.access()
    with proxy:
        access = proxy.access()
    assert isinstance(access, RegistryAccess) and not access.socket_path.exists()
