"""The read-only run dashboard: runs, a run's timeline, the team, the deliveries audit log."""

from webhooks.dashboard import github_login  # noqa: F401  (adds "Sign in with GitHub")
from webhooks.dashboard.routes import router

__all__ = ["router"]
