"""The bubblewrap command line and environment of a run: what the sandbox sees, and no more.

Read-only: /usr, /etc (minus the password hashes and host keys), the /bin and /lib links,
the Python installation in use and the clone's `.git`. Read-write: the workspace (at its own
path). Private and size-bounded: /tmp and /dev/shm. Not there at all: the rest of the host
(home directories, the bot's own checkout and its .env, /run with its sockets), the network,
the host's pids. With registry access (network.py) the sandbox still has no network of its own:
it also sees the proxy's socket directory and the bridge, read-only, under /run/repocrew.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from bot.sandbox.layout import Layout, git_metadata

__all__ = ["PRIVATE_TMP", "Layout", "bwrap_argv", "git_metadata", "python_paths", "sandbox_env"]
from bot.sandbox.limits import SandboxLimits
from bot.sandbox.network import RegistryAccess, bridged, network_binds

# The sandbox's own /tmp: a host path under it is, inside, a path in that private tmpfs.
PRIVATE_TMP = Path("/tmp")
SYSTEM_DIRS = ("/usr", "/etc")
SYSTEM_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")  # links on merged /usr
SECRET_FILES = ("/etc/shadow", "/etc/gshadow")  # root in the sandbox could read them
SECRET_DIRS = ("/etc/ssh",)  # host private keys

# Preferred first: a user namespace that cannot nest another (the usual kernel escape route).
# The second is for a setuid bwrap on a host without unprivileged user namespaces.
NAMESPACE_TIERS = (
    ("--unshare-all", "--unshare-user", "--disable-userns"),
    ("--unshare-all",),
)
TIER_NAMES = (
    "user (no nesting), pid, network, ipc, uts and cgroup namespaces",
    "pid, network, ipc, uts and cgroup namespaces (no user namespace)",
)


def python_paths() -> list[Path]:
    """The running interpreter's installation(s), so `sys.executable -m pytest` works inside."""
    seen: list[Path] = []
    for prefix in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        for path in (Path(prefix), Path(prefix).resolve()):
            covered = any(path.is_relative_to(system) for system in SYSTEM_DIRS)
            if path not in seen and not covered and path.is_dir():
                seen.append(path)
    return seen


def _system_args() -> list[str]:
    args: list[str] = []
    for directory in SYSTEM_DIRS:
        args += ["--ro-bind", directory, directory]
    for name in SYSTEM_LINKS:
        path = Path(name)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), name]
        elif path.is_dir():
            args += ["--ro-bind", name, name]
    for name in SECRET_FILES:
        if Path(name).exists():
            args += ["--ro-bind", "/dev/null", name]
    for name in SECRET_DIRS:
        if Path(name).is_dir():
            args += ["--tmpfs", name, "--remount-ro", name]
    return args


def bwrap_argv(
    bwrap: str,
    command: Sequence[str],
    *,
    workspace: Path,
    limits: SandboxLimits,
    namespaces: Sequence[str] = NAMESPACE_TIERS[0],
    ro_paths: Sequence[Path] = (),
    network: RegistryAccess | None = None,
    layout: Layout = Layout(),  # noqa: B008 - frozen
) -> list[str]:
    """The full argv: bwrap, its options, then the command. `workspace` must be resolved.

    Every namespace tier unshares the network; `network` adds only the way to the proxy.
    """
    args = [bwrap, *namespaces]
    if os.geteuid() == 0:  # bwrap run by root keeps every capability unless told otherwise
        args += ["--cap-drop", "ALL"]
    args += ["--die-with-parent", "--new-session", "--hostname", "sandbox"]
    # /tmp first: the workspace and the interpreter may live under it and are bound on top.
    args += ["--size", str(limits.tmp_bytes), "--tmpfs", str(PRIVATE_TMP)]
    args += _system_args()
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--size", str(limits.tmp_bytes), "--tmpfs", "/dev/shm"]
    for path in [*python_paths(), *ro_paths]:
        args += ["--ro-bind", str(path), str(path)]
    args += layout.bwrap_args(workspace)
    if network is not None:
        args += network_binds(network)
        command = bridged(command, network, sandboxed=True)
    args += ["--remount-ro", "/", "--", *command]
    return args


def sandbox_env(*, home: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A clean environment, never the host's: secrets live there.

    It is also bwrap's own environment, which the sandbox can read as /proc/1/environ.
    """
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",  # what a run said before a kill is what shows where it hung
    }
    env.update(extra or {})
    return env
