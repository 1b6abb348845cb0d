"""Open pull requests follow their branches in git; what that computes, and what it announces."""

from __future__ import annotations

from typing import Any

from emulators.github import hooks
from emulators.github.forks import head_sha, keep_pull_ref
from emulators.github.http import Ctx
from emulators.github.state import Pull, Repository


def refresh(repo: Repository, pull: Pull) -> None:
    """Follow the branches while the pull request is open (pushes move head and base)."""
    if pull.issue.state != "open":
        return
    refs = repo.git.refs("refs/heads/")
    pull.head_sha = head_sha(repo, pull) or pull.head_sha  # a fork's head lives in the fork
    pull.base_sha = refs.get(f"refs/heads/{pull.base_ref}", pull.base_sha)
    keep_pull_ref(repo, pull)


def stats(repo: Repository, pull: Pull) -> dict[str, Any]:
    base = repo.git.merge_base(pull.base_sha, pull.head_sha) or pull.base_sha
    files = repo.git.diff_files(base, pull.head_sha)
    if pull.merged or pull.issue.state != "open":
        mergeable, state = None, "unknown"
    else:
        clean = repo.git.merge_tree(pull.base_sha, pull.head_sha) is not None
        mergeable, state = clean, ("clean" if clean else "dirty")
        if pull.draft and clean:
            state = "draft"
    return {
        "commits": len(repo.git.commits_between(pull.base_sha, pull.head_sha)),
        "additions": sum(f.additions for f in files),
        "deletions": sum(f.deletions for f in files),
        "changed_files": len(files),
        "mergeable": mergeable,
        "mergeable_state": state,
    }


def announce_pull(ctx: Ctx, repo: Repository, pull: Pull, action: str, **fields: Any) -> None:
    """The `pull_request` webhook (its payload needs git, so only built when it is sent)."""
    if ctx.emulator.webhooks.enabled:
        body = hooks.pull_request(ctx.api, repo, pull, stats(repo, pull))
        ctx.notify("pull_request", action, repo, number=pull.number, pull_request=body, **fields)


def branch_moved(ctx: Ctx, repo: Repository, branch: str, before: str, after: str) -> None:
    """A push moved `branch` of `repo`: each open pull request with that head (in `repo`, or
    in the repository a fork proposes to) follows and says so."""
    for base in list(ctx.emulator.repos.values()):
        for pull in base.pulls.values():
            if pull.issue.state != "open" or pull.head_ref != branch:
                continue
            if (pull.head_repo or base) is repo:
                refresh(base, pull)
                pull.issue.updated_at = ctx.emulator.now()
                announce_pull(ctx, base, pull, "synchronize", before=before, after=after)
