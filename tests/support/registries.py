"""Local stand-ins for what a set-up reaches: package indexes, an echo server, the host's proxy.

All on loopback and in threads of the test process, each recording what it was asked, so a test
can say both that the allowed traffic arrived and that the refused traffic never did.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import json
import socket
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

TIMEOUT = 10.0


@contextmanager
def serve_directory(root: Path) -> Iterator[tuple[int, list[str]]]:
    """`python -m http.server` on `root`: its port, and the request lines it answered."""
    seen: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
            seen.append(f"{self.requestline} | Host: {self.headers.get('Host')}")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=root))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class Listener:
    """A TCP port nobody should reach: `touched()` says whether anything connected."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def touched(self) -> bool:
        self.sock.settimeout(0.2)
        try:
            connection, _ = self.sock.accept()
        except TimeoutError:
            return False
        connection.close()
        return True

    def close(self) -> None:
        self.sock.close()


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
        target.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def _echo(connection: socket.socket) -> None:
    with connection:
        _pipe(connection, connection)


@contextmanager
def echo_server() -> Iterator[int]:
    """A TCP server that sends back what it gets and closes after the client's end."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=_echo, args=(connection,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


def read_head(sock: socket.socket) -> bytes:
    """Bytes up to the end of an HTTP head (or of the stream)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


@contextmanager
def host_proxy(routes: dict[str, int]) -> Iterator[tuple[int, list[str]]]:
    """The host's own HTTP proxy: tunnels `CONNECT name:port` to the local port `routes` maps it
    to (it, not repocrew, resolves names), answers a plain request with its request line, and
    records each head it gets (request line and Proxy-Authorization)."""
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[str] = []

    def handle(client: socket.socket) -> None:
        with client:
            answer(client)

    def answer(client: socket.socket) -> None:
        head = read_head(client).decode("latin-1")
        line = head.split("\r\n", 1)[0]
        auth = [h for h in head.split("\r\n") if h.lower().startswith("proxy-authorization:")]
        seen.append(" | ".join([line, *auth]))
        method, target, _ = line.split(" ")
        if method != "CONNECT":
            body = f"via the host's proxy: {line}".encode()
            client.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        elif target in routes:
            with socket.create_connection(("127.0.0.1", routes[target]), timeout=TIMEOUT) as up:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                back = threading.Thread(target=_pipe, args=(up, client), daemon=True)
                back.start()
                _pipe(client, up)
                back.join(TIMEOUT)
        else:
            client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")

    def serve() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(client,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield listener.getsockname()[1], seen
    finally:
        listener.close()


def build_wheel(directory: Path, name: str, version: str, source: str) -> Path:
    """A pure-Python wheel of one module `name` holding `source`, as a build backend makes it."""
    tag = f"{name}-{version}"
    files = {
        f"{name}/__init__.py": source,
        f"{tag}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{tag}.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: repocrew-tests\nRoot-Is-Purelib: true\n"
            "Tag: py3-none-any\n"
        ),
    }
    record = [
        f"{path},sha256={_digest(text.encode())},{len(text.encode())}"
        for path, text in files.items()
    ]
    files[f"{tag}.dist-info/RECORD"] = "\n".join([*record, f"{tag}.dist-info/RECORD,,"]) + "\n"
    wheel = directory / f"{tag}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


def simple_index(root: Path, wheel: Path, project: str) -> None:
    """`root/simple/<project>/` (PEP 503) linking to the wheel under `root/packages/`."""
    packages = root / "packages"
    packages.mkdir(parents=True, exist_ok=True)
    (packages / wheel.name).write_bytes(wheel.read_bytes())
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    page = root / "simple" / project / "index.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    link = f"../../packages/{wheel.name}#sha256={digest}"
    page.write_text(
        f'<!DOCTYPE html>\n<html><body><a href="{link}">{wheel.name}</a></body></html>\n'
    )


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def npm_package(root: Path, name: str, version: str, source: str, *, port: int) -> None:
    """`root/<name>` (the registry's document for the package) and its tarball, served from
    http://127.0.0.1:<port>/ as `npm install --registry` asks for them."""
    files = {
        "package/package.json": json.dumps({"name": name, "version": version, "main": "index.js"}),
        "package/index.js": source,
    }
    tarball = root / f"{name}-{version}.tgz"
    with tarfile.open(tarball, "w:gz") as archive:
        for path, text in files.items():
            info = tarfile.TarInfo(path)
            info.size = len(text.encode())
            archive.addfile(info, io.BytesIO(text.encode()))
    data = tarball.read_bytes()
    dist = {
        "tarball": f"http://127.0.0.1:{port}/{tarball.name}",
        "shasum": hashlib.sha1(data).hexdigest(),
        "integrity": "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode(),
    }
    manifest = {"name": name, "version": version, "main": "index.js", "dist": dist}
    document = {"name": name, "dist-tags": {"latest": version}, "versions": {version: manifest}}
    (root / name).write_text(json.dumps(document))
