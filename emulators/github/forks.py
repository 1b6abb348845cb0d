"""Forks: a repository copied under another owner, and pull requests whose head lives there.

As on GitHub, a pull request from a fork names its head `owner:branch`; the base repository
keeps the head's commits under `refs/pull/<n>/head` (for every pull request, a fork's or its
own), so the base repository's readers can fetch exactly what the pull request shows.
"""

from __future__ import annotations

from emulators.github.emulator import GitHubEmulator
from emulators.github.state import Pull, Repository


def fork(emulator: GitHubEmulator, source: str, owner: str) -> Repository:
    """`owner`'s fork of `source` (`owner/name`): every branch of it, as of now."""
    parent = emulator.repo(source)
    if parent is None:
        raise KeyError(f"no repository {source}")
    with emulator.lock:
        copy = emulator.create_repo(
            f"{owner}/{parent.name}",
            default_branch=parent.default_branch,
            private=parent.private,
            collaborators={owner: "admin"},
        )
        copy.git.git("fetch", "--quiet", str(parent.git.path), "+refs/heads/*:refs/heads/*")
        copy.parent = parent
        copy.pushed_at = parent.pushed_at
        return copy


def head_fork(emulator: GitHubEmulator, base: Repository, owner: str) -> Repository | None:
    """The fork of `base` that `owner` holds (GitHub finds a fork head by its owner)."""
    if owner.lower() == base.owner.login.lower():
        return None
    found = emulator.repo(f"{owner}/{base.name}")
    if found is None or found.parent is not base:
        return next(
            (r for r in emulator.repos.values() if r.parent is base and r.owner.login == owner),
            None,
        )
    return found


def head_sha(repo: Repository, pull: Pull) -> str | None:
    """The head branch's commit now, in the repository it lives in."""
    source = pull.head_repo or repo
    return source.git.refs("refs/heads/").get(f"refs/heads/{pull.head_ref}")


def keep_pull_ref(repo: Repository, pull: Pull) -> None:
    """`refs/pull/<n>/head` in the base repository at the head's commit (fetched from a fork)."""
    ref = f"refs/pull/{pull.number}/head"
    if repo.git.refs(ref).get(ref) == pull.head_sha:
        return
    if pull.head_repo is not None and repo.git.resolve(pull.head_sha) is None:
        source, branch = str(pull.head_repo.git.path), f"refs/heads/{pull.head_ref}"
        repo.git.git("fetch", "--quiet", source, f"+{branch}:{ref}")
    repo.git.update_ref(ref, pull.head_sha)
