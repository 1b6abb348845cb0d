"""One runner for the git CLI: no shell, no host config, auth per command, secrets out of errors.

A token travels only as an `http.<origin>.extraHeader` setting in the child's environment
(`GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n`), scoped to the remote's origin:
never in argv (visible in `ps`), `.git/config`, the remote URL or a message.
"""

from __future__ import annotations

import base64
import functools
import os
import re
import shlex
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

GIT_TIMEOUT_SECONDS = 600.0

# Set on every command, whatever the repository or host says: the workspace is written by a
# model, so no hooks, filesystem monitors, credential helpers or signing prompts may run.
_FORCED_CONFIG = {
    "core.hooksPath": os.devnull,
    "core.fsmonitor": "false",
    "credential.helper": "",
    "commit.gpgSign": "false",
    "tag.gpgSign": "false",
    "protocol.ext.allow": "never",
    "advice.detachedHead": "false",
    "init.defaultBranch": "main",
}
# Inherited variables that would point git at the host's config or make it ask for input.
_DROPPED = ("HOME", "XDG_CONFIG_HOME", "SSH_ASKPASS", "EDITOR", "VISUAL", "PAGER")
_URL_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")


class GitError(RuntimeError):
    """A failed git command; the message names the command and stderr, secrets redacted."""

    def __init__(
        self,
        message: str,
        *,
        command: Sequence[str] = (),
        returncode: int | None = None,
        stderr: str = "",
    ) -> None:
        super().__init__(message)
        self.command = tuple(command)
        self.returncode = returncode
        self.stderr = stderr


def auth_header(token: str) -> str:
    """GitHub's header for an installation token over HTTPS (what `x-access-token:` URLs do)."""
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode("ascii")
    return f"Authorization: Basic {basic}"


def is_http(url: str) -> bool:
    return urlsplit(url).scheme.lower() in ("http", "https")


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _URL_CREDENTIALS.sub("***@", text)


@functools.cache
def _empty_home() -> str:
    # git and curl read ~/.gitconfig, ~/.config/git/* and ~/.netrc; none may exist here.
    return tempfile.mkdtemp(prefix="repocrew-git-home-")


def git_env(config: Mapping[str, str] | None = None) -> dict[str, str]:
    """The child's environment: the host's minus anything git-related, plus forced settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("GIT_") and key not in _DROPPED
    }
    settings = {**_FORCED_CONFIG, **(config or {})}
    env.update(
        HOME=_empty_home(),
        LC_ALL="C",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_TERMINAL_PROMPT="0",
        GIT_CONFIG_COUNT=str(len(settings)),
    )
    for index, (key, value) in enumerate(settings.items()):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return env


def run_git(
    args: Sequence[str],
    *,
    cwd: Path,
    token: str | None = None,
    auth_url: str | None = None,
    stdin: str | None = None,
    env: Mapping[str, str] | None = None,
    ok: Sequence[int] = (0,),
    timeout: float = GIT_TIMEOUT_SECONDS,
) -> subprocess.CompletedProcess[str]:
    """Run `git *args` in `cwd`; the token (if any) is sent only to `auth_url`'s origin."""
    config: dict[str, str] = {}
    secrets: list[str] = []
    if token:
        header = auth_header(token)
        secrets = [token, header.removeprefix("Authorization: Basic ")]
        if auth_url and is_http(auth_url):
            parts = urlsplit(auth_url)
            config[f"http.{parts.scheme}://{parts.netloc}/.extraHeader"] = header
    command = ["git", *args]
    shown = redact(shlex.join(command), secrets)
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            env={**git_env(config), **(env or {})},
            input=stdin,
            stdin=subprocess.DEVNULL if stdin is None else None,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise GitError(f"`{shown}` timed out after {timeout:.0f} s", command=command) from None
    except OSError as error:
        raise GitError(f"could not run `{shown}`: {error.strerror}", command=command) from None
    if done.returncode not in ok:
        stderr = redact(done.stderr.strip(), secrets)[-2000:]
        raise GitError(
            f"`{shown}` failed (exit {done.returncode}): {stderr or '(no output)'}",
            command=command,
            returncode=done.returncode,
            stderr=stderr,
        )
    return done


def check_attr(root: Path, paths: Sequence[str], names: Sequence[str]) -> dict[str, dict[str, str]]:
    """`.gitattributes` values of `names` for each path in the checkout at `root`, as git
    resolves them (nested files, macros such as `binary`): `set`, `unset`, `unspecified` or the
    value given."""
    if not paths:
        return {}
    args = ["check-attr", "-z", "--stdin", *names]
    fields = run_git(args, cwd=root, stdin="\0".join(paths) + "\0").stdout.split("\0")
    found: dict[str, dict[str, str]] = {}
    for path, name, value in zip(fields[0::3], fields[1::3], fields[2::3], strict=False):
        found.setdefault(path, {})[name] = value
    return found
