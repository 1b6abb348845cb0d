"""What the crew says about a sprint in Slack, as pure Block Kit builders: the lead's plan with
its approve / edit / cancel buttons, the plan once decided, a plan that could not be made or
approved, and the form that edits the goal.

Each button's value is the sprint's id; the handlers (`bot.triggers.slack_sprints`) check the
clicker's write access before doing anything.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from bot.slack.blocks import (
    Message,
    _button,
    _context,
    _link,
    _message,
    _section,
    clip,
    escape,
)

SPRINT_APPROVE, SPRINT_EDIT, SPRINT_CANCEL = (
    "crew_sprint_approve",
    "crew_sprint_edit",
    "crew_sprint_cancel",
)
GOAL_BLOCK, NOTES_BLOCK, FORM_INPUT = "goal", "notes", "text"
MAX_INPUT = 3000  # Slack's plain_text_input takes at most 3000 characters


def plan_message(
    sprint_id: int,
    *,
    goal: str,
    days: int,
    summary: str,
    tasks: Sequence[tuple[str, str, str, Sequence[str]]],
    link: str,
) -> Message:
    """The plan for approval: `tasks` are (key, title, owner, depends_on)."""
    head = f"Sprint {sprint_id} plan: {goal}"
    rows = "\n".join(
        f"• *{escape(key)}* {escape(title)} ({escape(owner)})"
        + (f" ← {escape(', '.join(needs))}" if needs else "")
        for key, title, owner, needs in tasks
    )
    value = str(sprint_id)
    blocks = [
        _section(f"*{_link(link, f'Sprint {sprint_id}')}: {escape(goal)}*"),
        _section(escape(summary.strip()) or "(no summary)"),
        _section(f"{len(tasks)} tasks over {days} days:\n{rows}"),
        _context("Nothing starts until a person with write access approves."),
        {
            "type": "actions",
            "block_id": "actions",
            "elements": [
                _button(SPRINT_APPROVE, "Approve", value, style="primary"),
                _button(SPRINT_EDIT, "Edit the goal", value),
                _button(SPRINT_CANCEL, "Cancel the sprint", value, style="danger"),
            ],
        },
    ]
    return _message(escape(head), blocks)


def refused_message(sprint_id: int, *, goal: str, problems: Sequence[str], link: str) -> Message:
    """No plan to approve (a cycle, an unknown role, a lead that could not plan): why, and
    that a new `/crew sprint` may start."""
    listed = "\n".join(f"• {escape(problem)}" for problem in problems)
    blocks = [
        _section(f"*{_link(link, f'Sprint {sprint_id}')} failed: {escape(goal)}*"),
        _section(f"Nothing was started:\n{listed}"),
        _context("Start the sprint again (`/crew sprint`) once the goal is clearer."),
    ]
    return _message(escape(f"Sprint {sprint_id} failed: {goal}"), blocks)


def decided(blocks: Sequence[dict], note: str) -> list[dict]:
    """The plan's blocks without its buttons, with what was decided (`note`, mrkdwn)."""
    kept = [block for block in blocks if block.get("type") != "actions"]
    return [*kept, _context(note)]


def edit_form(sprint_id: int, *, goal: str, channel: str) -> dict:
    """The modal where a person rewrites the goal and adds notes for the lead's new plan."""
    return {
        "type": "modal",
        "callback_id": SPRINT_EDIT,
        "private_metadata": json.dumps({"sprint": sprint_id, "channel": channel}),
        "title": {"type": "plain_text", "text": f"Edit sprint {sprint_id}"[:24]},
        "submit": {"type": "plain_text", "text": "Plan again"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _input(GOAL_BLOCK, "The sprint's goal", initial=goal, optional=False),
            _input(NOTES_BLOCK, "Notes for the lead (what to change)", initial="", optional=True),
        ],
    }


def form_values(view: dict) -> tuple[str, str]:
    """(goal, notes) as submitted in the edit form."""
    values = (view.get("state") or {}).get("values") or {}

    def value(block: str) -> str:
        return str((values.get(block) or {}).get(FORM_INPUT, {}).get("value") or "").strip()

    return value(GOAL_BLOCK), value(NOTES_BLOCK)


def _input(block_id: str, label: str, *, initial: str, optional: bool) -> dict:
    element = {"type": "plain_text_input", "action_id": FORM_INPUT, "multiline": True}
    if initial:
        element["initial_value"] = clip(initial, MAX_INPUT)
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": element,
    }
