"""Inside the sandbox: relay 127.0.0.1:PORT to the registry proxy's unix socket, run the command.

    python -I -S bridge.py --socket PATH --port PORT -- COMMAND [ARG...]

The sandbox has a network namespace of its own with nothing but loopback; its one way out is
the host proxy's unix socket, bound read-only into it. Package managers speak TCP to an HTTP
proxy, not unix sockets, so this listens on the sandbox's loopback and relays each connection to
the socket byte for byte (the proxy does all the deciding). The command runs as a child with the
proxy variables pointing here, and the bridge exits with the child's exit code (128 + N for a
death by signal N, as bwrap and shells report it), so the runner reads it as it always has.

Standard library only and one thread (a selector over the listener, the relayed sockets and the
child's pidfd): every thread would count against the sandbox's process limit. Run as a file by
the sandbox's python; repocrew never imports it. Port 0 picks a free port (for an unsandboxed
run on the host's own loopback).
"""

from __future__ import annotations

import os
import selectors
import socket
import subprocess
import sys

CHUNK = 64 * 1024
MAX_LINKS = 64  # connections relayed at once; more are closed at once (the proxy bounds its own)
CONNECT_SECONDS = 5.0
PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
    "npm_config_proxy",
    "npm_config_https_proxy",
)
USAGE = "usage: bridge.py --socket PATH --port PORT -- COMMAND [ARG...]\n"


class Side:
    """One socket of a relayed pair, and the bytes waiting to be written to it."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.pending = bytearray()
        self.read_eof = False
        self.write_shut = False
        self.registered = 0  # the selector events it is registered for


class Link:
    """One relayed connection: the client's TCP socket and the proxy's unix socket."""

    def __init__(self, client: socket.socket, proxy: socket.socket) -> None:
        self.sides = (Side(client), Side(proxy))

    def interest(self, index: int) -> int:
        side, peer = self.sides[index], self.sides[1 - index]
        wants_read = not side.read_eof and len(peer.pending) < CHUNK  # back-pressure
        return (selectors.EVENT_READ if wants_read else 0) | (
            selectors.EVENT_WRITE if side.pending else 0
        )

    def step(self, index: int, events: int) -> bool:
        """Move bytes for one ready socket; False once both directions are done."""
        side, peer = self.sides[index], self.sides[1 - index]
        if events & selectors.EVENT_READ:
            data = side.sock.recv(CHUNK)
            peer.pending += data
            side.read_eof = not data
        if events & selectors.EVENT_WRITE:
            del side.pending[: side.sock.send(side.pending)]
        for source, target in ((side, peer), (peer, side)):
            if source.read_eof and not target.pending and not target.write_shut:
                target.sock.shutdown(socket.SHUT_WR)  # pass the half-close on
                target.write_shut = True
        return not (side.write_shut and peer.write_shut)

    def update(self, selector: selectors.BaseSelector) -> None:
        """Register each socket for what it can do now (for nothing: unregistered)."""
        for index, side in enumerate(self.sides):
            events = self.interest(index)
            if events == side.registered:
                continue
            if not side.registered:
                selector.register(side.sock, events, (self, index))
            elif events:
                selector.modify(side.sock, events, (self, index))
            else:
                selector.unregister(side.sock)
            side.registered = events

    def close(self, selector: selectors.BaseSelector) -> None:
        for side in self.sides:
            if side.registered:
                selector.unregister(side.sock)
            side.sock.close()


def parse_args(argv: list[str]) -> tuple[str, int, list[str]]:
    if "--" not in argv:
        raise SystemExit(USAGE)
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1 :]
    named = dict(zip(options[::2], options[1::2], strict=False))
    if not command or set(named) != {"--socket", "--port"} or len(options) != 4:
        raise SystemExit(USAGE)
    return named["--socket"], int(named["--port"]), command


def start(command: list[str], port: int) -> subprocess.Popen[bytes] | int:
    """The command as a child, its proxy pointing here; the shell's 127/126 when it cannot run."""
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, NO_PROXY="", no_proxy="")
    env.update(dict.fromkeys(PROXY_VARIABLES, url))
    try:
        return subprocess.Popen(command, env=env)
    except OSError as error:
        sys.stderr.write(f"repocrew bridge: cannot run {command[0]}: {error}\n")
        return 126 if isinstance(error, PermissionError) else 127


def accept(listener: socket.socket, path: str, links: dict[int, Link]) -> Link | None:
    client, _ = listener.accept()
    if len(links) >= MAX_LINKS:
        client.close()
        return None
    proxy = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        proxy.settimeout(CONNECT_SECONDS)
        proxy.connect(path)
    except OSError as error:
        sys.stderr.write(f"repocrew bridge: the registry proxy is unreachable: {error}\n")
        client.close()
        proxy.close()
        return None
    client.setblocking(False)
    proxy.setblocking(False)
    return Link(client, proxy)


def relay(listener: socket.socket, path: str, child: subprocess.Popen[bytes]) -> int:
    """Relay until the child exits; return its exit code as a shell reports it."""
    selector = selectors.DefaultSelector()
    pidfd = os.pidfd_open(child.pid)
    selector.register(listener, selectors.EVENT_READ, "listener")
    selector.register(pidfd, selectors.EVENT_READ, "child")
    links: dict[int, Link] = {}
    while True:
        for key, events in selector.select():
            if key.data == "child":
                code = child.wait()
                return 128 - code if code < 0 else code
            if key.data == "listener":
                link = accept(listener, path, links)
                if link is not None:
                    links[id(link)] = link
                    link.update(selector)
                continue
            link, index = key.data
            if id(link) not in links:
                continue  # closed earlier in this round
            try:
                alive = link.step(index, events)
            except BlockingIOError:
                alive = True
            except OSError:
                alive = False
            if alive:
                link.update(selector)
            else:
                link.close(selector)
                del links[id(link)]


def main(argv: list[str]) -> int:
    path, port, command = parse_args(argv)
    listener = socket.create_server(("127.0.0.1", port))
    listener.setblocking(False)
    child = start(command, listener.getsockname()[1])
    if isinstance(child, int):
        return child
    return relay(listener, path, child)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
