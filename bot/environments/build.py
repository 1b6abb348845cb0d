"""The environment of a workspace: built once in the sandbox (registry-only network), kept in
the cache, and shown read-only to every later run whose inputs are the same.

A set-up runs at the repository root with the workspace at `WORKSPACE`; what it adds that git
does not track (`.venv/`, `node_modules/`, a generated `_version.py`…) is the environment: it
is moved into the cache entry and bound back, read-only, at the same paths for tests and
commands. Files of the repository a set-up changed are put back, so nothing of it is committed.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shlex
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.environments.cache import EnvironmentCache
from bot.environments.host_config import ClientConfig, client_config
from bot.environments.interpreters import Interpreter, find_interpreter
from bot.environments.plan import EnvironmentPlan
from bot.environments.proxy import RegistryProxy
from bot.environments.setup_report import SetupFailed, failed_command
from bot.environments.untracked import changed_tracked, restore, untracked
from bot.sandbox import SandboxLimits, run_sandboxed, sandbox_status
from bot.sandbox.layout import WORKSPACE, Bind, Layout

KEY_FORMAT = 2  # 2: node_modules entries hold an empty .cache (the tests' scratch mount)
TOOL_CACHE = ".cache"  # node_modules/.cache: tools write there while the tests run
DEFAULT_REGISTRIES = ("pypi.org", "files.pythonhosted.org", "registry.npmjs.org")
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
SETUP_LIMITS = SandboxLimits(
    cpu_seconds=1200,
    memory_bytes=4 * 1024**3,
    processes=512,
    wall_seconds=1200,
    output_bytes=2_000_000,
    file_size_bytes=1024**3,
    tmp_bytes=2 * 1024**3,
)


@dataclass(frozen=True)
class Environment:
    """What the tests and commands of one workspace run in."""

    plan: EnvironmentPlan
    interpreter: Interpreter | None = None
    key: str | None = None
    mounts: tuple[tuple[Path, str], ...] = ()  # (cache path, repository-relative path)
    built: bool = False  # this call ran the set-up (cold); False: reused, or nothing to set up
    seconds: float = 0.0
    log: str = ""  # the set-up's output, when it ran
    refused: tuple[str, ...] = ()  # destinations the set-up asked for and did not get

    @property
    def isolated(self) -> bool:
        """Built in (and used at) the fixed workspace path: tests must see it there."""
        return self.key is not None

    def layout(self, results: Path | None = None) -> Layout:
        binds = [Bind(source, target) for source, target in self.mounts]
        if results is not None:
            binds.append(Bind(results, "/run/repocrew/results", writable=True))
        if not self.isolated and results is None:
            return Layout()
        scratch = tuple(
            f"{target}/{TOOL_CACHE}"
            for source, target in self.mounts
            if Path(target).name == "node_modules" and (source / TOOL_CACHE).is_dir()
        )
        return Layout(WORKSPACE if self.isolated else None, tuple(binds), scratch=scratch)

    def env(self) -> dict[str, str]:
        """PATH (and VIRTUAL_ENV) for the tests: the environment's programs first."""
        if not self.isolated:
            return {}
        first = [f"{WORKSPACE}/{entry}" for entry in self.plan.path]
        if self.interpreter is not None:
            first.append(str(self.interpreter.bin))
        env = {"PATH": ":".join([*first, SYSTEM_PATH])}
        if self.plan.environment_dir == ".venv":
            env["VIRTUAL_ENV"] = f"{WORKSPACE}/.venv"
        return env

    def ro_paths(self) -> list[Path]:
        return [self.interpreter.prefix] if self.interpreter is not None else []


@dataclass
class Environments:
    """Builds and finds environments; one per process, from the settings (bot.wiring)."""

    cache: EnvironmentCache
    allow: Sequence[str]  # registries: exact hosts, `*.suffix`, or host:port
    client: ClientConfig = field(default_factory=lambda: ClientConfig({}, (), ()))
    limits: SandboxLimits = SETUP_LIMITS
    bwrap: str = "bwrap"  # REPOCREW_SANDBOX_BWRAP

    def prepare(self, workspace: Path, plan: EnvironmentPlan) -> Environment:
        """The workspace's environment, built now if no cached one fits (SetupFailed if the
        set-up fails). A repository with nothing to set up gets none, offline."""
        if not plan.setup:
            return Environment(plan)
        interpreter = find_interpreter(plan.python) if plan.kind == "python" else None
        if not sandbox_status(self.bwrap).available:
            raise SetupFailed(
                "", None, "", (), "building an environment needs the sandbox (bubblewrap)"
            )
        started = time.monotonic()
        key = environment_key(workspace, plan, interpreter)
        found = self.cache.get(key) if plan.cache else None
        if found is not None:
            seconds = time.monotonic() - started
            return Environment(plan, interpreter, key, tuple(found.mounts()), False, seconds)
        return self._build(workspace, plan, interpreter, key, started)

    def _build(
        self,
        workspace: Path,
        plan: EnvironmentPlan,
        interpreter: Interpreter | None,
        key: str,
        started: float,
    ) -> Environment:
        before = set(untracked(workspace))
        with self.cache.building(key) as staging:
            with RegistryProxy([*self.allow, *self.client.hosts]) as proxy:
                result = run_sandboxed(
                    ["sh", "-c", setup_script(plan.setup)],
                    workspace=workspace,
                    limits=self.limits,
                    bwrap=self.bwrap,
                    env={**self.client.env, **_setup_path(interpreter)},
                    ro_paths=[*self.client.paths, *([interpreter.prefix] if interpreter else [])],
                    network=proxy.access(),
                    layout=Layout(WORKSPACE, readable_secrets=plan.readable_secrets),
                )
                refused = tuple(proxy.refused)
            restore(workspace, changed_tracked(workspace))
            if not result.passed:
                raise SetupFailed(
                    failed_command(result.output, plan.setup),
                    result.exit_code,
                    result.output,
                    refused,
                    "the set-up timed out" if result.timed_out else "",
                )
            produced = [path for path in untracked(workspace) if path not in before]
            for path in produced:
                target = staging / path
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(workspace / path), target)
                if target.name == "node_modules":  # the mount point of the tests' scratch
                    (target / TOOL_CACHE).mkdir(exist_ok=True)
            entry = self.cache.commit(key, staging, produced)
        seconds = time.monotonic() - started
        mounts = tuple(entry.mounts())
        return Environment(plan, interpreter, key, mounts, True, seconds, result.output, refused)


def default_environments(
    root: Path,
    *,
    allow: Sequence[str] = DEFAULT_REGISTRIES,
    max_bytes: int = 10 * 1024**3,
    max_age_seconds: float = 14 * 86400,
    bwrap: str = "bwrap",
) -> Environments:
    """Environments cached under `root`, the host's package-client configuration carried in."""
    cache = EnvironmentCache(root, max_age_seconds=max_age_seconds, max_bytes=max_bytes)
    client = client_config(os.environ, Path.home())
    return Environments(cache, tuple(allow), client, bwrap=bwrap)


def setup_script(commands: Sequence[str]) -> str:
    """The set-up as one shell script that stops at the first failure and names each command
    before running it (so a failure's log says which)."""
    lines = ["set -e"]
    for command in commands:
        lines += [f"printf '\\n$ %s\\n' {shlex.quote(command)}", command]
    return "\n".join(lines)


def _setup_path(interpreter: Interpreter | None) -> dict[str, str]:
    first = [str(interpreter.bin)] if interpreter is not None else []
    return {"PATH": ":".join([*first, SYSTEM_PATH]), "PIP_NO_INPUT": "1"}


def environment_key(workspace: Path, plan: EnvironmentPlan, interpreter: Interpreter | None) -> str:
    """What the environment depends on: the set-up, the dependency files' contents, the
    interpreter, the platform and where the workspace shows."""
    files = {}
    for name in sorted(plan.depends_on):
        path = workspace / name
        files[name] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    described = {
        "format": KEY_FORMAT,
        "kind": plan.kind,
        "setup": list(plan.setup),
        "files": files,
        "python": interpreter.version if interpreter else None,
        "interpreter": str(interpreter.executable) if interpreter else None,
        "node": plan.node,
        "platform": [platform.system(), platform.machine(), *platform.libc_ver()],
        "workspace": str(WORKSPACE),
    }
    if plan.readable_secrets:  # what the set-up saw of the secret files can change what it built
        described["readable_secrets"] = list(plan.readable_secrets)
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:40]
