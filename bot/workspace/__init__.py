"""The coder's workspace: confined file tools and the git clone they work in."""

from bot.workspace.files import (
    DEFAULT_PROTECTED,
    DEFAULT_UNREADABLE,
    SearchHit,
    Workspace,
    WorkspaceError,
)
from bot.workspace.git import GitError, GitIdentity, GitWorkspace, branch_name

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
