"""The host's package-client configuration, carried into a set-up: index URLs, extra and local
indexes, certificates, constraints. What it names on disk is shown read-only; the hosts of its
URLs join the registry allowlist. Nothing else of the host's environment goes in: the bot's own
settings (tokens, keys) never reach a set-up.
"""

from __future__ import annotations

import configparser
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

# Variables that configure package clients or the certificates they trust.
CLIENT_PREFIXES = ("PIP_", "UV_", "npm_config_", "NPM_CONFIG_", "YARN_")
CERTIFICATE_VARIABLES = (
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
)
# Never carried, whatever their prefix: credentials of the client's own account.
SECRET_WORDS = re.compile(r"auth|token|password|secret|_key$", re.IGNORECASE)
PIP_FILE_KEYS = ("index-url", "extra-index-url", "find-links", "cert", "client-cert", "constraint")
NPMRC_KEYS = re.compile(r"^(@[\w.-]+:)?registry$|^(cafile|strict-ssl|ca)$")
SYSTEM = (Path("/usr"), Path("/etc"))  # shown to every sandbox already


@dataclass(frozen=True)
class ClientConfig:
    env: dict[str, str]  # what the set-up's environment gets on top of the sandbox's own
    paths: tuple[Path, ...]  # host files and folders it names, to show read-only
    hosts: tuple[str, ...]  # hosts of the index and registry URLs, for the allowlist


def client_config(environ: Mapping[str, str], home: Path) -> ClientConfig:
    env = {
        name: value
        for name, value in environ.items()
        if (name.startswith(CLIENT_PREFIXES) or name in CERTIFICATE_VARIABLES)
        and not SECRET_WORDS.search(name)
    }
    values = list(env.values())
    pip_file = _user_pip_config(environ, home)
    if pip_file is not None:
        env["PIP_CONFIG_FILE"] = str(pip_file)
        values += _pip_file_values(pip_file)
    npm = _npmrc(home / ".npmrc")
    env |= {
        f"npm_config_{key}": value for key, value in npm.items() if f"npm_config_{key}" not in env
    }
    values += list(npm.values())
    words = [word for value in values for word in value.split()]
    paths = {path for word in words if (path := _local_path(word)) is not None}
    if pip_file is not None:
        paths.add(pip_file)
    hosts = {host for word in words if (host := _url_host(word))}
    return ClientConfig(env, tuple(sorted(paths)), tuple(sorted(hosts)))


def _user_pip_config(environ: Mapping[str, str], home: Path) -> Path | None:
    """The per-user pip config a sandbox cannot find (its HOME is its own)."""
    named = environ.get("PIP_CONFIG_FILE")
    candidates = [Path(named)] if named else []
    candidates += [home / ".config" / "pip" / "pip.conf", home / ".pip" / "pip.conf"]
    return next((path for path in candidates if path.is_file()), None)


def _pip_file_values(path: Path) -> list[str]:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read(path)
    except configparser.Error:
        return []
    return [
        parser.get(section, key)
        for section in parser.sections()
        for key in PIP_FILE_KEYS
        if parser.has_option(section, key)
    ]


def _npmrc(path: Path) -> dict[str, str]:
    """The registry and certificate lines of the user's .npmrc (never its tokens)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}
    found = {}
    for line in lines:
        key, _, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if value and NPMRC_KEYS.match(key) and not SECRET_WORDS.search(key):
            found[key] = value
    return found


def _local_path(word: str) -> Path | None:
    text = word[len("file://") :] if word.startswith("file://") else word
    if not text.startswith("/"):
        return None
    path = Path(os.path.normpath(text))
    if path.name == "simple":  # a local PEP 503 index links to files beside it: show its tree
        path = path.parent
    if any(path.is_relative_to(system) for system in SYSTEM) or not path.exists():
        return None
    return path


def _url_host(word: str) -> str | None:
    if not word.startswith(("http://", "https://")):
        return None
    parts = urlsplit(word)
    return f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
