"""Every trigger module, imported so its handlers are on their routers, and the two entry
points the worker calls: a stored GitHub delivery, a stored Slack request."""

from __future__ import annotations

from bot.triggers import (  # noqa: F401  (each registers its handlers when imported)
    github_assignments,
    github_checks,
    github_comments,
    github_installations,
    github_issues,
    github_pulls,
    github_review_threads,
    github_reviews,
    github_sprints,
    question_replies,
    slack_actions,
    slack_commands,
    slack_messages,
)
from bot.triggers.github_deliveries import handle_github_delivery
from bot.triggers.slack_deliveries import handle_slack_delivery

__all__ = ["handle_github_delivery", "handle_slack_delivery"]
