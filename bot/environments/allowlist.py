"""What a set-up asks the registry proxy for, whether it may have it, and which way it goes.

The proxy's core without I/O: the request heads it reads and forwards, its own answers, the
allowlist it asks before it resolves or dials anything, and the host's own proxy (if repocrew
must use one) that allowed traffic goes through. An allowlist entry:

    pypi.org                            that host, ports 443 and 80
    *.pythonhosted.org                  any strict subdomain (not the bare domain), 443 and 80
    registry.example:8443               that host, that port only
    https://mirror.example:8443/simple  a URL: its host, and only its port when it names one
    127.0.0.1:8080  [::1]:8080          an address, matched exactly (never by a suffix)

A URL's path is ignored: an HTTPS tunnel carries TLS, so the proxy never sees a path.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import unquote, urlsplit
from urllib.request import getproxies_environment

DEFAULT_PORTS = frozenset({443, 80})

_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_PORT = re.compile(r"[1-9][0-9]{0,4}")


def is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def normalize_host(text: str) -> str:
    """The one spelling a host is compared in: lower case, no final dot, addresses compressed.

    Anything else (spaces, `%` zone ids, `@`, empty labels) is a ValueError, so a host that the
    resolver would read differently from this check never gets as far as the resolver.
    """
    host = text.lower()
    host = host[:-1] if host.endswith(".") else host
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host).compressed
        except ValueError:
            raise ValueError(f"not a host: {text!r}") from None
    if is_address(host):
        return str(ipaddress.IPv4Address(host))
    if len(host) > 253 or not _HOSTNAME.fullmatch(host):
        raise ValueError(f"not a host: {text!r}")
    return host


def split_authority(authority: str) -> tuple[str, int | None]:
    """`host`, `host:port`, `[v6]` or `[v6]:port` as (normalized host, port or None)."""
    if authority.startswith("["):
        host, closed, rest = authority[1:].partition("]")
        if not closed or (rest and not rest.startswith(":")):
            raise ValueError(f"not host[:port]: {authority!r}")
        port_text = rest[1:] if rest else None
    elif authority.count(":") == 1:
        host, port_text = authority.split(":")
    else:  # no colon, or an unbracketed IPv6 address: no port either way
        host, port_text = authority, None
    if port_text is None:
        return normalize_host(host), None
    if not _PORT.fullmatch(port_text) or int(port_text) > 65535:
        raise ValueError(f"not a port: {port_text!r} in {authority!r}")
    return normalize_host(host), int(port_text)


def destination(host: str, port: int) -> str:
    """`host:port` as a log and a person read it (IPv6 in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass(frozen=True)
class Rule:
    host: str  # normalized; for a wildcard, the domain under which subdomains match
    wildcard: bool
    ports: frozenset[int]

    def matches(self, host: str, port: int) -> bool:
        if port not in self.ports:
            return False
        if self.wildcard:
            return not is_address(host) and host.endswith("." + self.host)
        return host == self.host


def parse_rule(entry: str) -> Rule:
    """One allowlist entry (see the module's docstring); ValueError says what is wrong."""
    text = entry.strip()
    authority = text
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or "@" in parts.netloc:
            raise ValueError(f"{entry!r}: only http(s) URLs without credentials")
        authority = parts.netloc
    wildcard = authority.startswith("*.")
    host, port = split_authority(authority[2:] if wildcard else authority)
    if wildcard and is_address(host):
        raise ValueError(f"{entry!r}: a wildcard needs a domain, not an address")
    return Rule(host, wildcard, frozenset({port}) if port else DEFAULT_PORTS)


@dataclass(frozen=True)
class Allowlist:
    rules: tuple[Rule, ...]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Allowlist:
        if isinstance(entries, str):  # one entry, which would otherwise be read letter by letter
            raise TypeError("allow takes a list of entries, not one string")
        return cls(tuple(parse_rule(entry) for entry in entries))

    def allows(self, host: str, port: int) -> bool:
        """Whether `host` (normalized) on `port` is listed; an address only where listed as one."""
        return any(rule.matches(host, port) for rule in self.rules)


def of_this_host(address: str) -> bool:
    """Loopback, link-local (the metadata service), unspecified or multicast: never a registry,
    so an allowed name that resolves to one is refused unless the address itself is listed."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast


# -- what a set-up asks the proxy for ---------------------------------------------------------

# Hop-by-hop (RFC 9110 7.6.1), and Host, which is rebuilt from the checked destination.
DROPPED_HEADERS = frozenset(
    {"connection", "keep-alive", "proxy-connection", "proxy-authorization"}
    | {"proxy-authenticate", "te", "trailer", "upgrade", "host"}
)


@dataclass(frozen=True)
class ProxyRequest:
    method: str
    host: str  # normalized
    port: int
    path: str  # origin-form for a plain request; "" for CONNECT
    headers: tuple[tuple[str, str], ...]
    version: str = "HTTP/1.1"  # the client's: an HTTP/1.0 client cannot read a chunked answer

    @property
    def tunnel(self) -> bool:
        return self.method == "CONNECT"

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == 80 and not self.tunnel else f"{host}:{self.port}"

    def connect_head(self, authorization: str | None) -> bytes:
        """This tunnel, asked of the host's own proxy."""
        lines = [f"CONNECT {self.authority} HTTP/1.1", f"Host: {self.authority}"]
        lines += [f"Proxy-Authorization: {authorization}"] if authorization else []
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def forward_head(self, *, absolute: bool, authorization: str | None = None) -> bytes:
        """This plain request for the origin (or, `absolute`, the host's proxy): Host is the
        checked authority, hop-by-hop headers go, and one request per connection, so a second
        request on a kept-alive connection cannot reach a host that was not checked."""
        named = {
            token.strip().lower()
            for name, value in self.headers
            if name.lower() == "connection"
            for token in value.split(",")
        }
        target = f"http://{self.authority}{self.path}" if absolute else self.path
        lines = [f"{self.method} {target} {self.version}", f"Host: {self.authority}"]
        lines += [f"{n}: {v}" for n, v in self.headers if n.lower() not in DROPPED_HEADERS | named]
        lines.append("Connection: close")
        lines += [f"Proxy-Authorization: {authorization}"] if authorization else []
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def parse_request(head: bytes) -> ProxyRequest:
    """A head sent to the proxy; ValueError for anything but CONNECT or an absolute http:// URL.

    A stray CR, LF or NUL anywhere is refused: forwarded, it could add a header (a second Host).
    """
    text = head.decode("latin-1").removesuffix("\r\n\r\n")
    request_line, *lines = text.split("\r\n")
    if any(char in text.replace("\r\n", "") for char in "\r\n\0"):
        raise ValueError("a bare CR, LF or NUL in the request head")
    method, target, version = _three(request_line)
    headers = tuple(_header(line) for line in lines)
    if method == "CONNECT":
        host, port = split_authority(target)
        if port is None:
            raise ValueError(f"CONNECT needs host:port, not {target[:200]!r}")
        return ProxyRequest(method, host, port, "", headers)
    parts = urlsplit(target)
    if parts.scheme != "http" or "@" in parts.netloc:
        raise ValueError("send an absolute http:// URL, or CONNECT host:port for https")
    host, port = split_authority(parts.netloc)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return ProxyRequest(method, host, port or 80, path, headers, version)


def _three(request_line: str) -> tuple[str, str, str]:
    parts = request_line.split(" ")
    if len(parts) != 3 or not parts[0].isalpha() or parts[2] not in ("HTTP/1.0", "HTTP/1.1"):
        raise ValueError(f"not an HTTP/1 proxy request: {request_line[:200]!r}")
    return parts[0], parts[1], parts[2]


def _header(line: str) -> tuple[str, str]:
    name, colon, value = line.partition(":")
    if not colon or not name or name != name.strip() or " " in name:  # also a folded line
        raise ValueError(f"not a header line: {line[:200]!r}")
    return name, value.strip()


def answer(status: int, reason: str) -> bytes:
    """The proxy's own short answer (a refusal, a bad request, an unreachable destination)."""
    body = f"repocrew registry proxy: {reason}\n".encode()
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


# -- the host's own proxy -------------------------------------------------------------------


@dataclass(frozen=True)
class Upstream:
    """The host's own HTTP proxy, through which allowed destinations are reached."""

    host: str
    port: int
    authorization: str | None = field(default=None, repr=False)  # Basic, from user:password@
    no_proxy: str = ""

    @classmethod
    def parse(cls, url: str, no_proxy: str = "") -> Upstream:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"the upstream proxy must be http://host:port, not {parts.scheme}")
        authorization = None
        if parts.username is not None:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            authorization = "Basic " + base64.b64encode(pair).decode()
        return cls(parts.hostname, parts.port or 80, authorization, no_proxy)

    @classmethod
    def from_environment(cls) -> Upstream | None:
        """https_proxy / HTTPS_PROXY and no_proxy of repocrew's own process, read as urllib does."""
        proxies = getproxies_environment()
        url = proxies.get("https")
        return cls.parse(url, proxies.get("no", "")) if url else None

    def serves(self, host: str) -> bool:
        """Not for this host's loopback (the other proxy has its own), nor what NO_PROXY names."""
        if host == "localhost" or (is_address(host) and ipaddress.ip_address(host).is_loopback):
            return False
        for entry in self.no_proxy.lower().split(","):
            name = entry.strip().rsplit(":", 1)[0] if entry.count(":") == 1 else entry.strip()
            name = name.lstrip("*").lstrip(".")  # `.example.com`, `*.example.com`: its subdomains
            if entry.strip() == "*" or (name and (host == name or host.endswith("." + name))):
                return False
        return True
