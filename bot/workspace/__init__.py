"""The coder's workspace: confined file tools and the git clone they work in."""

from bot.workspace.files import SearchHit, Workspace, WorkspaceError
from bot.workspace.git import GitError, GitIdentity, GitWorkspace, branch_name

__all__ = [
    "GitError",
    "GitIdentity",
    "GitWorkspace",
    "SearchHit",
    "Workspace",
    "WorkspaceError",
    "branch_name",
]
