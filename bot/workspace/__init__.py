"""The coder's workspace: confined file tools and the git clone they work in."""

from bot.workspace.files import SearchHit, Workspace, WorkspaceError
from bot.workspace.git import GitError, GitIdentity, GitWorkspace, branch_name
from bot.workspace.protections import DEFAULT_PROTECTED, DEFAULT_UNREADABLE

__all__ = [
    "DEFAULT_PROTECTED",
    "DEFAULT_UNREADABLE",
    "GitError",
    "GitIdentity",
    "GitWorkspace",
    "SearchHit",
    "Workspace",
    "WorkspaceError",
    "branch_name",
]
