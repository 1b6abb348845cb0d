"""The read-only run dashboard: runs, a run's timeline, the team, the deliveries audit log."""

from webhooks.dashboard import (
    github_login,  # noqa: F401  (adds "Sign in with GitHub")
    login_link,  # noqa: F401  (adds one-time login links)
)
from webhooks.dashboard.routes import router

__all__ = ["router"]
