"""The workspace clone: clone, branch, commit as a role, and push only the crew's own branches.

Branch and push rules are enforced here, in code, not in prompts: a push names exactly one
`refs/heads/<branch>` under the crew's prefix, never force unless asked, never tags.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.workspace.gitcli import GitError, run_git
from bot.workspace.staging import stage

__all__ = ["GitError", "GitIdentity", "GitWorkspace", "branch_name"]

_TRAILER_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_PREFIX = re.compile(r"(?:[A-Za-z0-9][A-Za-z0-9_-]*/)*(?:[A-Za-z0-9][A-Za-z0-9_-]*)?")
_BAD_TEXT = re.compile(r"[\0\r\n]")


@dataclass(frozen=True)
class GitIdentity:
    name: str
    email: str

    def __post_init__(self) -> None:
        for value in (self.name, self.email):
            if not value.strip() or _BAD_TEXT.search(value) or "<" in value or ">" in value:
                raise ValueError(f"not a usable git identity: {self.name!r} <{self.email!r}>")

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


def branch_name(prefix: str, issue_number: int | None, title: str, *, max_length: int = 60) -> str:
    """`crew/12-add-input-validation`: ASCII, lowercase, cut at a word, valid as a git ref."""
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(f"branch prefix {prefix!r} must be like `crew/` (letters, digits, - _ /)")
    if issue_number is not None and issue_number < 0:
        raise ValueError(f"issue number {issue_number} is negative")
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    head = prefix + (f"{issue_number}-" if issue_number is not None else "")
    room = max_length - len(head)
    if len(slug) > room:
        cut = slug[: max(room, 0)]
        if "-" in cut and slug[len(cut)] != "-":
            cut = cut.rsplit("-", 1)[0]  # end on a whole word
        slug = cut.strip("-")
    if slug:
        return head + slug
    return head.rstrip("-") if issue_number is not None else head + "untitled"


def _check_rev(rev: str) -> None:
    if not rev or rev.startswith("-") or any(c.isspace() or ord(c) < 32 for c in rev):
        raise ValueError(f"not a usable git revision: {rev!r}")


def _clone_source(url: str | os.PathLike[str]) -> str:
    """The URL as git should get it; credentials and remote helpers are refused."""
    if isinstance(url, os.PathLike):
        return str(Path(url).resolve())
    if url.startswith("-") or not url:
        raise ValueError("the clone URL is empty or looks like an option")
    if "://" not in url:
        if "::" in url:
            raise ValueError("git remote helpers (`transport::address`) are not allowed")
        return url if ":" in url else str(Path(url).resolve())  # scp-like, or a local path
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http", "file", "ssh"):
        raise ValueError(f"unsupported clone URL scheme {scheme!r}")
    if parts.password or (scheme in ("http", "https") and parts.username):
        raise ValueError("credentials go in `token`, never in the clone URL")
    return url


class GitWorkspace:
    """A clone on disk; every command runs with `gitcli`'s clean environment.

    `origin`: the URL it was cloned from. Fetches and pushes go there, and the token is scoped
    to it, whatever `.git/config` says by then: code run in the workspace may have rewritten it.
    """

    def __init__(self, root: Path, *, origin: str | None = None) -> None:
        self.root = Path(root).resolve()
        self.origin = origin

    @classmethod
    def clone(
        cls,
        url: str | os.PathLike[str],
        dest: Path,
        *,
        token: str | None = None,
        branch: str | None = None,
    ) -> GitWorkspace:
        """Clone `url` into `dest` (absent or empty); the token is used for this command only."""
        source = _clone_source(url)
        dest = Path(dest).resolve()
        dest.parent.mkdir(parents=True, exist_ok=True)
        args = ["clone", "--quiet", "--no-recurse-submodules"]
        if branch is not None:
            check_branch(branch, cwd=dest.parent)
            args.append(f"--branch={branch}")
        run_git([*args, "--", source, str(dest)], cwd=dest.parent, token=token, auth_url=source)
        return cls(dest, origin=source)

    def _git(self, *args: str, token: str | None = None, **options: Any) -> str:
        auth_url = self.remote_url() if token else None
        return run_git(args, cwd=self.root, token=token, auth_url=auth_url, **options).stdout

    def remote_url(self) -> str:
        if self.origin is not None:
            return self.origin
        return run_git(["remote", "get-url", "origin"], cwd=self.root).stdout.strip()

    def _remote(self) -> str:
        """Where to fetch from and push to: the cloned URL when known, else `origin`."""
        return self.origin if self.origin is not None else "origin"

    def _has(self, rev: str) -> bool:
        _check_rev(rev)
        found = run_git(
            ["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd=self.root, ok=(0, 1)
        )
        return found.returncode == 0

    # -- branches ------------------------------------------------------------------------

    def fetch(self, *, token: str | None = None) -> None:
        refspec = "+refs/heads/*:refs/remotes/origin/*"
        self._git("fetch", "--quiet", "--prune", self._remote(), refspec, token=token)

    def checkout_new_branch(self, name: str, *, start: str = "HEAD") -> None:
        check_branch(name, cwd=self.root)
        _check_rev(start)
        self._git("switch", "--quiet", "--no-track", "-c", name, start)

    def checkout_remote_branch(self, name: str) -> bool:
        """Check out `origin/<name>` as of the last clone or fetch; False if it has none."""
        check_branch(name, cwd=self.root)
        remote_ref = f"refs/remotes/origin/{name}"
        if not self._has(remote_ref):
            return False
        self._git("switch", "--quiet", "--no-track", "-C", name, remote_ref)
        return True

    def remote_branch_sha(self, name: str, *, token: str | None = None) -> str | None:
        """The branch's commit on the remote right now (`git ls-remote`), or None."""
        check_branch(name, cwd=self.root)
        ref = f"refs/heads/{name}"
        for line in self._git("ls-remote", self._remote(), ref, token=token).splitlines():
            sha, _, listed = line.partition("\t")
            if listed == ref:
                return sha
        return None

    def head_sha(self) -> str:
        return self._git("rev-parse", "--verify", "HEAD^{commit}").strip()

    def current_branch(self) -> str:
        found = run_git(["symbolic-ref", "--quiet", "--short", "HEAD"], cwd=self.root, ok=(0, 1))
        if found.returncode != 0:
            raise GitError("HEAD is detached: no branch is checked out")
        return found.stdout.strip()

    # -- commits -------------------------------------------------------------------------

    def commit(
        self,
        message: str,
        *,
        paths: Iterable[str],
        author: GitIdentity,
        committer: GitIdentity | None = None,
        co_authors: Sequence[GitIdentity] = (),
        trailers: Mapping[str, str] | None = None,
    ) -> str | None:
        """Stage `paths` (what the crew's tools wrote or deleted: `Workspace.touched`) and
        commit them, nothing else; the new sha, or None when nothing changed."""
        message = message.strip() + "\n"  # interpret-trailers glues trailers to an unended line
        if not message.strip():
            raise ValueError("the commit message is empty")
        lines = []
        for key, value in (trailers or {}).items():
            if not _TRAILER_KEY.fullmatch(key) or _BAD_TEXT.search(value) or not value.strip():
                raise ValueError(f"not a usable trailer: {key!r}: {value!r}")
            lines.append(f"{key}: {value}")
        lines += [f"Co-authored-by: {who}" for who in co_authors]
        stage(self.root, paths)
        staged = run_git(["diff", "--cached", "--quiet"], cwd=self.root, ok=(0, 1))
        if staged.returncode == 0:
            return None
        if lines:
            message = self._git(
                "interpret-trailers", *(f"--trailer={line}" for line in lines), stdin=message
            )
        committer = committer or author
        identity = {
            "GIT_AUTHOR_NAME": author.name,
            "GIT_AUTHOR_EMAIL": author.email,
            "GIT_COMMITTER_NAME": committer.name,
            "GIT_COMMITTER_EMAIL": committer.email,
        }
        # whitespace cleanup keeps lines starting with `#` (issue references, Markdown).
        self._git(
            "commit", "--quiet", "--no-verify", "--cleanup=whitespace", "--file=-",
            stdin=message, env=identity,
        )  # fmt: skip
        return self.head_sha()

    def find_commit_with_trailer(
        self, key: str, value: str, *, ref: str = "HEAD", max_count: int = 200
    ) -> str | None:
        """The newest commit (of the last `max_count` on `ref`) whose trailer `key` is `value`."""
        if not _TRAILER_KEY.fullmatch(key):
            raise ValueError(f"not a trailer key: {key!r}")
        if not self._has(ref):
            return None  # an unborn or unknown branch has no such commit yet
        log = self._git(
            "log",
            f"--max-count={max_count}",
            "--format=%H%x00%(trailers:only,unfold)%x1e",
            ref,
            "--",
        )
        for record in log.split("\x1e"):
            sha, _, block = record.strip("\n").partition("\0")
            for line in block.splitlines():
                found_key, colon, found_value = line.partition(":")
                if colon and found_key.strip().lower() == key.lower():
                    if found_value.strip() == value:
                        return sha
        return None

    def push(
        self, branch: str, *, allowed_prefix: str, token: str | None = None, force: bool = False
    ) -> None:
        """Push `refs/heads/<branch>` to the same name on origin, and nothing else."""
        if not allowed_prefix.strip("/"):
            raise ValueError("allowed_prefix must be a branch prefix like `crew/`")
        if branch.startswith("refs/"):
            raise ValueError(f"push takes a branch name, not a ref: {branch!r}")
        check_branch(branch, cwd=self.root)
        if not branch.startswith(allowed_prefix) or branch == allowed_prefix:
            raise ValueError(
                f"refusing to push {branch!r}: the crew pushes only branches under "
                f"{allowed_prefix!r}"
            )
        if not self._has(f"refs/heads/{branch}"):
            raise GitError(f"there is no local branch {branch!r} to push")
        refspec = f"refs/heads/{branch}:refs/heads/{branch}"
        force_flag = ["--force"] if force else []
        self._git(
            "push", "--quiet", "--no-verify", "--no-follow-tags", *force_flag, self._remote(),
            refspec, token=token,
        )  # fmt: skip

    # -- what changed --------------------------------------------------------------------

    def diff(self, base: str, head: str = "HEAD") -> str:
        """What `head` changed since it left `base` (`base...head`, as a pull request shows)."""
        _check_rev(base)
        _check_rev(head)
        return self._git(
            "diff", "--no-color", "--no-ext-diff", "--no-textconv", f"{base}...{head}", "--"
        )

    def changed_files(self, base: str, head: str = "HEAD") -> list[str]:
        _check_rev(base)
        _check_rev(head)
        names = self._git("diff", "--name-only", "-z", "--no-renames", f"{base}...{head}", "--")
        return sorted({name for name in names.split("\0") if name})

    def status_paths(self) -> list[str]:
        """Paths with uncommitted changes, untracked files included."""
        out = self._git("status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames")
        return sorted({entry[3:] for entry in out.split("\0") if len(entry) > 3})


def check_branch(name: str, *, cwd: Path) -> None:
    """Refuse a branch name git would refuse (asks `git check-ref-format`, the authority)."""
    if not name or name.startswith("-") or "@{" in name or name == "HEAD":
        raise ValueError(f"not a valid branch name: {name!r}")
    try:
        run_git(["check-ref-format", f"refs/heads/{name}"], cwd=cwd)
    except GitError:
        raise ValueError(f"not a valid branch name: {name!r}") from None
