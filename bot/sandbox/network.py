"""Registry-only network for a sandboxed run: where the host's proxy is, and the bridge to it.

A sandbox never gets a network interface: it keeps its own network namespace, with only its own
loopback. For a set-up (`pip install`, `npm ci`) the caller passes a `RegistryAccess`: the unix
socket of a filtering proxy running on the host, whose directory is bound read-only into the
sandbox, and a bridge script that listens on the sandbox's loopback, relays each connection to
that socket, and runs the command with the proxy variables pointing at itself. The sandbox
decides nothing about destinations; the proxy does. Plain data, so the sandbox needs to know
nothing of the proxy but its socket.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

INSIDE = PurePosixPath("/run/repocrew")  # fixed paths in the sandbox: no host path shows
PROXY_DIR = INSIDE / "proxy"
BRIDGE = INSIDE / "bridge.py"
DEFAULT_PORT = 3128  # the sandbox's own loopback: nothing else listens there


@dataclass(frozen=True)
class RegistryAccess:
    socket_path: Path  # the proxy's unix socket on the host, alone in a private directory
    bridge: Path  # the bridge script on the host (bot/environments/bridge.py)
    port: int = DEFAULT_PORT  # where the bridge listens inside the sandbox

    def check(self) -> None:
        """ValueError unless the socket and the bridge are there (a proxy that has stopped)."""
        if not self.socket_path.is_socket():
            raise ValueError(f"the registry proxy is not listening at {self.socket_path}")
        if not self.bridge.is_file():
            raise ValueError(f"no network bridge script at {self.bridge}")


def network_binds(access: RegistryAccess) -> list[str]:
    """bwrap options that show the proxy's directory and the bridge, read-only, at fixed paths."""
    return [
        "--ro-bind",
        str(access.socket_path.parent),
        str(PROXY_DIR),
        "--ro-bind",
        str(access.bridge),
        str(BRIDGE),
    ]


def bridged(command: Sequence[str], access: RegistryAccess, *, sandboxed: bool) -> list[str]:
    """`command`, run by the bridge: inside at the fixed paths, or (unsandboxed) on a free port.

    `-I -S`: the bridge ignores the PYTHON* variables, the user's site and the script's directory.
    """
    if sandboxed:
        script, socket, port = str(BRIDGE), str(PROXY_DIR / access.socket_path.name), access.port
    else:  # on the host's own loopback, where a fixed port may be taken
        script, socket, port = str(access.bridge), str(access.socket_path), 0
    bridge = [sys.executable, "-I", "-S", script, "--socket", socket, "--port", str(port)]
    return [*bridge, "--", *command]
