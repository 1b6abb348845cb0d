"""Which GitHub events and Slack requests repocrew acts on; everything else is only audited.

The GitHub list is the set of events the App subscribes to (see the App manifest); `None`
means every action of that event.
"""

from __future__ import annotations

GITHUB_ACTED_ON: dict[str, frozenset[str] | None] = {
    "issues": frozenset(
        {"opened", "edited", "labeled", "assigned", "unassigned", "closed", "reopened", "deleted"}
    ),
    "issue_comment": frozenset({"created", "edited"}),
    "pull_request": frozenset(
        {"opened", "edited", "synchronize", "reopened", "closed", "ready_for_review"}
    ),
    "pull_request_review": frozenset({"submitted", "dismissed"}),
    "pull_request_review_comment": frozenset({"created", "edited"}),
    "check_run": frozenset({"completed", "rerequested"}),
    "check_suite": frozenset({"completed", "rerequested"}),
    "installation": None,
    "installation_repositories": None,
}

# Slack: every slash command and interaction is a person asking for something; of the
# Events API only these event types matter to the crew.
SLACK_ACTED_ON_EVENTS: frozenset[str] = frozenset(
    {"app_mention", "message", "app_uninstalled", "tokens_revoked", "member_joined_channel"}
)
SLACK_ACTED_ON_INTERACTIONS: frozenset[str] = frozenset(
    {"block_actions", "view_submission", "view_closed", "shortcut", "message_action"}
)

GITHUB_EVENT_JOB = "github.event"
SLACK_REQUEST_JOB = "slack.request"


def github_acts_on(event: str, action: str) -> bool:
    if event not in GITHUB_ACTED_ON:
        return False
    actions = GITHUB_ACTED_ON[event]
    return actions is None or action in actions


def slack_acts_on(kind: str, detail: str) -> bool:
    """`kind` is command, event_callback or an interaction type; `detail` the event type."""
    if kind == "command":
        return True
    if kind == "event_callback":
        return detail in SLACK_ACTED_ON_EVENTS
    return kind in SLACK_ACTED_ON_INTERACTIONS
