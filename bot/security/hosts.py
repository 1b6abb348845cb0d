"""Which host a URL really points at, as a browser would read it, and whether it is allowed.

A link the crew posts may go only to an allowed host. Spellings that fool a naive comparison
are read the way browsers read them: case, a trailing dot, percent-escapes and full-width or
other look-alike characters in the host (UTS #46 mapping, then IDNA: a Cyrillic `і` stays a
different host), userinfo (`https://github.com@evil.com` goes to evil.com), backslashes, tabs
and new lines (browsers drop or turn them into slashes), protocol-relative `//host`. Anything
this cannot read with certainty is not allowed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

import idna

# Browsers drop these anywhere in a URL; C0 controls and spaces at either end.
_DROPPED = re.compile(r"[\t\n\r]")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_SLASHES = re.compile(r"^(?:/|%2f|%5c)+", re.IGNORECASE)
WEB_SCHEMES = ("http", "https")


def normal_host(host: str) -> str | None:
    """`host` as one spelling (lowercase ASCII, IDNA, no trailing dot), None when unreadable."""
    host = unquote(host).strip().rstrip(".")
    if not host or any(c in host for c in "/\\@:%?# ") and not host.startswith("["):
        return None
    if host.startswith("["):  # an IPv6 literal: compared as written, lowercase
        return host.lower()
    try:
        return idna.encode(host, uts46=True, std3_rules=True, transitional=False).decode().lower()
    except (idna.IDNAError, UnicodeError, ValueError):
        return None


def url_host(url: str) -> tuple[str, str | None]:
    """("relative", None) for a link within the page's own site, ("web", host) for an http(s)
    or protocol-relative URL, ("other", None) for any other scheme or an unreadable URL."""
    url = _DROPPED.sub("", url).strip("\x00 \x0b\x0c").replace("\\", "/")
    scheme = _SCHEME.match(url)
    if scheme is None:
        # `/%5Cevil.com`: a renderer's escaped backslash, which a lenient reader may undo.
        if unquote(url[:6]).replace("\\", "/").startswith("//"):
            url = "//" + _SLASHES.sub("", url)
        if not url.startswith("//"):
            return ("relative", None)  # a path, `?query` or `#fragment` of the same site
        url = "https:" + url
    elif scheme.group(1).lower() not in WEB_SCHEMES:
        return ("other", None)
    elif not url[scheme.end() :].startswith("//"):
        return ("other", None)  # `https:evil.com`: browsers differ, so never allowed
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        return ("other", None)
    host = netloc.rpartition("@")[2]  # userinfo goes: the host is after the last `@`
    if host.startswith("["):
        host = host[: host.find("]") + 1] if "]" in host else ""
    else:
        host = host.partition(":")[0]
    normal = normal_host(host)
    return ("web", normal) if normal else ("other", None)


def allowed_url(url: str, hosts: frozenset[str]) -> bool:
    """A relative URL, or an http(s) one whose host is in `hosts` (spelt by `host_set`)."""
    kind, host = url_host(url)
    return kind == "relative" or (kind == "web" and host in hosts)


def host_set(entries: Iterable[str]) -> frozenset[str]:
    """Hosts (or URLs) in the spelling `allowed_url` compares; unreadable entries raise."""
    hosts = set()
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        host = url_host(entry)[1] if "/" in entry else normal_host(entry.partition(":")[0])
        if host is None:
            raise ValueError(f"not a host name: {entry!r}")
        hosts.add(host)
    return frozenset(hosts)


def web_host_of_api(api_url: str) -> str | None:
    """The web host of a GitHub API URL: api.github.com → github.com, ghe.example/api/v3 →
    ghe.example (GitHub Enterprise serves both on one host), anything else its own host."""
    kind, host = url_host(api_url)
    if kind != "web" or host is None:
        return None
    return host.removeprefix("api.")


def web_url_of_api(api_url: str) -> str | None:
    """The web address of a GitHub API URL, scheme and port kept: https://api.github.com →
    https://github.com, https://ghe.example.com/api/v3 → https://ghe.example.com."""
    host = web_host_of_api(api_url)
    if host is None:
        return None
    parts = urlsplit(_DROPPED.sub("", api_url).strip())
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return None
    return f"{(parts.scheme or 'https').lower()}://{host}{port}"
