"""A pull request's own commits: `refs/pull/<n>/head`, which the base repository keeps for
every pull request, a fork's included. A branch of the head's name in the base repository may
be another branch altogether (a fork's `main`, `patch-1`), so reviews fetch this ref instead.
"""

from __future__ import annotations

from bot.workspace.git import GitWorkspace
from bot.workspace.gitcli import run_git


def checkout_pull(git: GitWorkspace, number: int, *, token: str | None = None) -> str:
    """Fetch pull request `number`'s head from the cloned origin and check it out (detached);
    its commit sha. The token is the clone's read token, for this command only."""
    if isinstance(number, bool) or not isinstance(number, int) or number <= 0:
        raise ValueError(f"not a pull request number: {number!r}")
    local = f"refs/remotes/origin/pull/{number}"
    origin = git.remote_url()
    run_git(
        ["fetch", "--quiet", "--no-tags", origin, f"+refs/pull/{number}/head:{local}"],
        cwd=git.root,
        token=token,
        auth_url=origin if token else None,
    )
    run_git(["switch", "--quiet", "--detach", local], cwd=git.root)
    return git.head_sha()
