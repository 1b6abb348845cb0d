"""The registry proxy: on the host, a set-up in the sandbox reaches package registries and no more.

The sandbox has no network (its own namespace, loopback only); the bridge inside (bridge.py)
relays its loopback port to this proxy's unix socket, which sits alone in a private directory
bound read-only into the sandbox. The proxy speaks what package managers send a proxy:
`CONNECT host:port` (a tunnel, for HTTPS) and absolute-form requests (`GET http://host/...`,
for http mirrors). Each destination is checked against the allowlist before anything is
resolved or dialled; a refusal is answered 403 with the reason and recorded in `refused`, so
the set-up's log can name what was blocked. An allowed *name* that resolves to an address of
this host (loopback, link-local: the cloud metadata service) is refused too, unless the
allowlist names that address. Plain requests are sent on with Host set to the checked
authority, so a header cannot steer a shared front end to a host that was not checked.

Bounded: `max_connections` at once (more get 503), a head of HEAD_LIMIT bytes, and a
connection idle both ways for `idle_seconds` is closed. If repocrew itself must go through a
proxy (HTTPS_PROXY, read as urllib reads it), allowed destinations are reached through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from bot.environments.allowlist import (
    Allowlist,
    ProxyRequest,
    Upstream,
    answer,
    destination,
    is_address,
    of_this_host,
    parse_request,
)
from bot.sandbox import RegistryAccess

log = logging.getLogger(__name__)

BRIDGE_SCRIPT = Path(__file__).with_name("bridge.py")
SOCKET_NAME = "proxy.sock"
HEAD_LIMIT = 64 * 1024
CHUNK = 64 * 1024
START_SECONDS = 10.0
TUNNEL_OPENED = re.compile(rb"HTTP/1\.[01] 2\d\d ")

Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class Refused(Exception):
    """A destination the set-up may not reach; str() is the reason the 403 gives."""


class RegistryProxy:
    """The filtering proxy, served from a background thread for the life of a `with` block.

    `upstream`: "environment" chains through repocrew's own HTTPS_PROXY when one is set (and
    NO_PROXY does not exclude the destination); a URL chains through that; None connects directly.
    """

    def __init__(
        self,
        allow: Iterable[str],
        *,
        upstream: str | Literal["environment"] | None = "environment",
        max_connections: int = 64,
        idle_seconds: float = 60.0,
        connect_seconds: float = 15.0,
    ) -> None:
        self.allowlist = Allowlist.parse(allow)
        if upstream == "environment":
            self.upstream = Upstream.from_environment()
        else:
            self.upstream = Upstream.parse(upstream) if upstream else None
        self.max_connections = max_connections
        self.idle_seconds = idle_seconds
        self.connect_seconds = connect_seconds
        self._refused: dict[str, None] = {}  # an ordered set
        self._lock = threading.Lock()
        self._directory: Path | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[asyncio.Task[Any]] = set()

    @property
    def socket_path(self) -> Path:
        if self._directory is None:
            raise RuntimeError("the registry proxy is not running: use it in a `with` block")
        return self._directory / SOCKET_NAME

    @property
    def refused(self) -> list[str]:
        """Every refused destination (`host:port`), once each, in the order first asked for."""
        with self._lock:
            return list(self._refused)

    def access(self) -> RegistryAccess:
        """What `run_sandboxed(network=...)` needs to reach this proxy."""
        return RegistryAccess(socket_path=self.socket_path, bridge=BRIDGE_SCRIPT)

    def __enter__(self) -> RegistryProxy:
        self._directory = Path(tempfile.mkdtemp(prefix="repocrew-proxy-"))  # mode 0700
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="registry-proxy", daemon=True
        )
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(START_SECONDS)
            os.chmod(self.socket_path, 0o600)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving, end every open connection, and remove the socket's directory."""
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(START_SECONDS)
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
        self._loop = self._thread = self._server = self._directory = None

    async def _listen(self) -> None:
        self._server = await asyncio.start_unix_server(
            self._accept, path=str(self.socket_path), limit=HEAD_LIMIT
        )

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One client connection, start to end: the edge where its failures stop."""
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            if len(self._connections) > self.max_connections:
                await self._busy(reader, writer)
            else:
                await self._serve(reader, writer)
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as error:
            log.debug("registry proxy: a connection ended early: %r", error)
        except asyncio.CancelledError:
            pass  # closing: end quietly (3.11's start_server logs a cancelled handler as an error)
        finally:
            self._connections.discard(task)
            await _close(writer)

    async def _busy(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Read the head first: a client still sending would get a broken pipe, not the 503."""
        with contextlib.suppress(asyncio.LimitOverrunError, asyncio.IncompleteReadError):
            async with asyncio.timeout(self.idle_seconds):
                await reader.readuntil(b"\r\n\r\n")
        await _answer(writer, 503, "too many connections at once; try again")

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(self.idle_seconds):
                head = await reader.readuntil(b"\r\n\r\n")
            request = parse_request(head)
        except asyncio.LimitOverrunError:
            return await _answer(writer, 431, f"the request head is over {HEAD_LIMIT} bytes")
        except ValueError as error:
            return await _answer(writer, 400, str(error))
        where = destination(request.host, request.port)
        try:
            (upstream_reader, upstream_writer), via = await self._open(request)
        except Refused as refusal:
            self._record_refusal(where, str(refusal))
            return await _answer(writer, 403, f"{where} refused: {refusal}")
        except (OSError, TimeoutError) as error:
            log.info("registry proxy: cannot reach %s: %r", where, error)
            return await _answer(writer, 502, f"cannot reach {where}: {error!r}")
        try:
            if request.tunnel:
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                authorization = via.authorization if via else None
                upstream_writer.write(
                    request.forward_head(absolute=via is not None, authorization=authorization)
                )
            await self._relay((reader, writer), (upstream_reader, upstream_writer))
        finally:
            await _close(upstream_writer)

    async def _open(self, request: ProxyRequest) -> tuple[Streams, Upstream | None]:
        """The connection to an allowed destination, and the host's proxy it goes through."""
        if not self.allowlist.allows(request.host, request.port):
            raise Refused("not on the registry allowlist")
        via = self.upstream if self.upstream and self.upstream.serves(request.host) else None
        async with asyncio.timeout(self.connect_seconds):
            if via is not None:
                return await self._through(via, request), via
            return await self._dial(request.host, request.port), None

    async def _through(self, via: Upstream, request: ProxyRequest) -> Streams:
        reader, writer = await asyncio.open_connection(via.host, via.port, limit=HEAD_LIMIT)
        if not request.tunnel:
            return reader, writer
        writer.write(request.connect_head(via.authorization))
        try:
            reply = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            reply = b"no answer"
        if not TUNNEL_OPENED.match(reply):
            writer.close()
            status = reply.split(b"\r\n", 1)[0].decode("latin-1")
            raise ConnectionError(f"the host's proxy answered {status!r}")
        return reader, writer

    async def _dial(self, host: str, port: int) -> Streams:
        if is_address(host):  # listed as an address, so meant
            return await asyncio.open_connection(host, port, limit=HEAD_LIMIT)
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        for address in addresses:
            if of_this_host(address) and not self.allowlist.allows(address, port):
                raise Refused(f"{host} resolves to {address}, an address of this host")
        failure: OSError = OSError(f"{host} has no address")
        for address in addresses:
            try:
                return await asyncio.open_connection(address, port, limit=HEAD_LIMIT)
            except OSError as error:
                failure = error
        raise failure

    async def _relay(self, one: Streams, other: Streams) -> None:
        """Bytes both ways until both ends finish, either fails, or both are idle too long."""
        last = [time.monotonic()]
        writers = (one[1], other[1])

        async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while True:
                    try:
                        async with asyncio.timeout(self.idle_seconds):
                            data = await reader.read(CHUNK)
                    except TimeoutError:
                        if time.monotonic() - last[0] < self.idle_seconds:
                            continue  # the other way is busy
                        break
                    if not data:
                        if writer.can_write_eof():
                            writer.write_eof()  # pass the half-close on
                        return
                    last[0] = time.monotonic()
                    writer.write(data)
                    await writer.drain()
            except OSError:
                pass
            for each in writers:  # idle or broken: end both ways
                each.close()

        await asyncio.gather(pump(one[0], other[1]), pump(other[0], one[1]))

    def _record_refusal(self, where: str, reason: str) -> None:
        with self._lock:
            first = where not in self._refused
            self._refused[where] = None
        if first:
            log.warning("registry proxy refused %s: %s", where, reason)


async def _answer(writer: asyncio.StreamWriter, status: int, reason: str) -> None:
    writer.write(answer(status, reason))
    await writer.drain()


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
