"""The read-only run dashboard: runs, a run's timeline, the team, the deliveries audit log."""

from webhooks.dashboard.routes import router

__all__ = ["router"]
