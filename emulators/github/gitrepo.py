"""A bare git repository on disk, driven with git plumbing (the only module that runs git)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

ZERO_SHA = "0" * 40


class GitError(Exception):
    """A git command failed; `stderr` says why."""


@dataclass(frozen=True)
class Signature:
    name: str
    email: str
    date: str  # ISO 8601, e.g. 2026-01-01T00:00:00Z


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    tree: str
    parents: list[str]
    author: Signature
    committer: Signature
    message: str


@dataclass(frozen=True)
class FileChange:
    filename: str
    status: str  # added, removed, modified, renamed
    additions: int
    deletions: int
    patch: str
    blob_sha: str


STATUS_NAMES = {"A": "added", "D": "removed", "M": "modified", "T": "changed"}


class GitRepo:
    """A bare repository at `path`; every method is one or a few plumbing commands."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def init_bare(cls, path: Path, *, default_branch: str) -> GitRepo:
        path.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["git", "init", "--quiet", "--bare", f"--initial-branch={default_branch}", str(path)],
            check=True,
            capture_output=True,
        )
        return cls(path)

    @property
    def url(self) -> str:
        return self.path.resolve().as_uri()

    def git(
        self,
        *args: str,
        input: bytes | None = None,
        env: dict[str, str] | None = None,
        ok_codes: tuple[int, ...] = (0,),
    ) -> str:
        full_env = {**os.environ, "GIT_DIR": str(self.path), "LC_ALL": "C", **(env or {})}
        result = subprocess.run(
            ["git", *args], input=input, capture_output=True, env=full_env, check=False
        )
        if result.returncode not in ok_codes:
            raise GitError(result.stderr.decode(errors="replace").strip())
        return result.stdout.decode(errors="replace")

    def git_code(self, *args: str) -> tuple[int, str]:
        env = {**os.environ, "GIT_DIR": str(self.path), "LC_ALL": "C"}
        result = subprocess.run(["git", *args], capture_output=True, env=env, check=False)
        return result.returncode, result.stdout.decode(errors="replace")

    # refs
    def resolve(self, rev: str) -> str | None:
        """The commit sha `rev` names (a sha, a branch, a full ref), or None."""
        code, out = self.git_code("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
        return out.strip() if code == 0 else None

    def refs(self, prefix: str = "refs/") -> dict[str, str]:
        out = self.git("for-each-ref", "--format=%(refname) %(objectname)", prefix)
        return dict(line.split(" ", 1) for line in out.splitlines())

    def update_ref(self, ref: str, sha: str, old: str | None = None) -> None:
        self.git("update-ref", ref, sha, *([old] if old else []))

    def delete_ref(self, ref: str) -> None:
        self.git("update-ref", "-d", ref)

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return self.git_code("merge-base", "--is-ancestor", ancestor, descendant)[0] == 0

    def merge_base(self, a: str, b: str) -> str | None:
        code, out = self.git_code("merge-base", a, b)
        return out.strip() if code == 0 else None

    # objects
    def commit_info(self, sha: str) -> CommitInfo:
        fmt = "%H%x00%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B"
        fields = self.git("show", "-s", f"--format={fmt}", sha).split("\x00")
        return CommitInfo(
            sha=fields[0],
            tree=fields[1],
            parents=fields[2].split(),
            author=Signature(fields[3], fields[4], _utc(fields[5])),
            committer=Signature(fields[6], fields[7], _utc(fields[8])),
            message=fields[9].rstrip("\n"),
        )

    def entry(self, commit: str, path: str) -> tuple[str, str, str] | None:
        """(mode, type, sha) of `path` in `commit`, or None when absent."""
        path = path.strip("/")
        if not path:
            return ("040000", "tree", self.git("rev-parse", f"{commit}^{{tree}}").strip())
        out = self.git("ls-tree", "--full-tree", commit, "--", path)
        if not out.strip():
            return None
        meta, _name = out.rstrip("\n").split("\t", 1)
        mode, kind, sha = meta.split()
        return mode, kind, sha

    def tree_entries(self, commit: str, path: str) -> list[tuple[str, str, str, str, int]]:
        """(mode, type, sha, path, size) for each entry of the directory `path`."""
        prefix = f"{path.strip('/')}/" if path.strip("/") else ""
        out = self.git("ls-tree", "--long", "--full-tree", commit, "--", prefix or ".")
        entries = []
        for line in out.splitlines():
            meta, name = line.split("\t", 1)
            mode, kind, sha, size = meta.split()
            entries.append((mode, kind, sha, name, 0 if size == "-" else int(size)))
        return entries

    def blob(self, sha: str) -> bytes:
        env = {**os.environ, "GIT_DIR": str(self.path)}
        return subprocess.run(
            ["git", "cat-file", "blob", sha], capture_output=True, env=env, check=True
        ).stdout

    # writing
    def commit_files(
        self,
        *,
        parent: str | None,
        files: dict[str, bytes | None],
        message: str,
        author: Signature,
        committer: Signature | None = None,
    ) -> str:
        """A new commit on top of `parent` with `files` written (None deletes); returns its sha."""
        with tempfile.TemporaryDirectory() as tmp:
            index = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            if parent:
                self.git("read-tree", parent, env=index)
            for path, data in files.items():
                if data is None:
                    self.git("update-index", "--force-remove", "--", path, env=index)
                else:
                    blob = self.git("hash-object", "-w", "--stdin", input=data).strip()
                    self.git(
                        "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=index
                    )
            tree = self.git("write-tree", env=index).strip()
        return self.commit_tree(tree, [parent] if parent else [], message, author, committer)

    def commit_tree(
        self,
        tree: str,
        parents: list[str],
        message: str,
        author: Signature,
        committer: Signature | None = None,
    ) -> str:
        committer = committer or author
        env = {
            "GIT_AUTHOR_NAME": author.name,
            "GIT_AUTHOR_EMAIL": author.email,
            "GIT_AUTHOR_DATE": author.date,
            "GIT_COMMITTER_NAME": committer.name,
            "GIT_COMMITTER_EMAIL": committer.email,
            "GIT_COMMITTER_DATE": committer.date,
        }
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        return self.git(*args, input=message.encode(), env=env).strip()

    def merge_tree(self, base: str, head: str) -> str | None:
        """The tree of merging `head` into `base`, or None on conflicts (git >= 2.38)."""
        code, out = self.git_code("merge-tree", "--write-tree", base, head)
        return out.splitlines()[0].strip() if code == 0 else None

    # history and diffs
    def commits_between(self, base: str, head: str) -> list[str]:
        """Commits reachable from `head` and not from `base`, oldest first."""
        return self.git("rev-list", "--reverse", f"{base}..{head}").split()

    def diff_files(self, base: str, head: str) -> list[FileChange]:
        statuses = {}
        for line in self.git("diff", "--no-renames", "--name-status", base, head).splitlines():
            code, name = line.split("\t", 1)
            statuses[name] = STATUS_NAMES.get(code[0], "modified")
        counts = {}
        for line in self.git("diff", "--no-renames", "--numstat", base, head).splitlines():
            added, deleted, name = line.split("\t", 2)
            counts[name] = (
                int(added) if added != "-" else 0,
                int(deleted) if deleted != "-" else 0,
            )
        changes = []
        for name, status in statuses.items():
            patch = self.git("diff", "--no-renames", base, head, "--", name)
            hunk = patch.find("@@")
            entry = self.entry(head if status != "removed" else base, name)
            changes.append(
                FileChange(
                    filename=name,
                    status=status,
                    additions=counts[name][0],
                    deletions=counts[name][1],
                    patch=patch[hunk:].rstrip("\n") if hunk >= 0 else "",
                    blob_sha=entry[2] if entry else ZERO_SHA,
                )
            )
        return changes


def _utc(iso: str) -> str:
    """git's strict ISO date (with offset) as GitHub's UTC `Z` form."""
    from datetime import datetime

    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
