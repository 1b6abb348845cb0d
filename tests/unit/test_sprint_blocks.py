"""The sprint plan in Slack, its refusal and its edit form: pure Block Kit, within Slack's
limits, with the goal and titles escaped so they cannot mention or link."""

from __future__ import annotations

from bot.slack.blocks import check_blocks
from bot.slack.sprint_blocks import (
    SPRINT_APPROVE,
    SPRINT_CANCEL,
    SPRINT_EDIT,
    decided,
    edit_form,
    form_values,
    plan_message,
    refused_message,
)

TASKS = [("A", "Schema", "architect", ()), ("C", "Auth <flow>", "coder", ("A", "B"))]


def test_the_plan_lists_its_tasks_and_carries_the_three_buttons():
    text, blocks = plan_message(
        7, goal="Users <!channel>", days=3, summary="Two parts.", tasks=TASKS, link="http://h/i/1"
    )
    assert text == "Sprint 7 plan: Users &lt;!channel&gt;"
    assert check_blocks(blocks) == []
    assert blocks[0]["text"]["text"] == "*<http://h/i/1|Sprint 7>: Users &lt;!channel&gt;*"
    assert blocks[2]["text"]["text"] == (
        "2 tasks over 3 days:\n• *A* Schema (architect)\n• *C* Auth &lt;flow&gt; (coder) ← A, B"
    )
    (actions,) = [b for b in blocks if b["type"] == "actions"]
    assert [(e["action_id"], e["value"]) for e in actions["elements"]] == [
        (SPRINT_APPROVE, "7"),
        (SPRINT_EDIT, "7"),
        (SPRINT_CANCEL, "7"),
    ]


def test_a_decided_plan_keeps_its_text_and_loses_its_buttons():
    _text, blocks = plan_message(1, goal="g", days=1, summary="", tasks=TASKS, link="")
    settled = decided(blocks, "Approved by <@U1>.")
    assert [b["type"] for b in settled] == ["section", "section", "section", "context", "context"]
    assert settled[-1]["elements"][0]["text"] == "Approved by <@U1>."


def test_a_refused_plan_says_why_and_has_no_buttons():
    text, blocks = refused_message(
        4, goal="Users <!here>", problems=["the lead: 400 <bad>"], link="http://h/i/2"
    )
    assert text == "Sprint 4 failed: Users &lt;!here&gt;"
    assert check_blocks(blocks) == [] and "actions" not in [b["type"] for b in blocks]
    assert blocks[0]["text"]["text"] == "*<http://h/i/2|Sprint 4> failed: Users &lt;!here&gt;*"
    assert blocks[1]["text"]["text"] == "Nothing was started:\n• the lead: 400 &lt;bad&gt;"


def test_the_edit_form_starts_from_the_goal_and_reads_back_what_was_typed():
    form = edit_form(3, goal="Old goal", channel="C1")
    assert form["callback_id"] == SPRINT_EDIT and form["private_metadata"] == (
        '{"sprint": 3, "channel": "C1"}'
    )
    assert form["blocks"][0]["element"]["initial_value"] == "Old goal"
    assert "initial_value" not in form["blocks"][1]["element"]
    typed = {
        "state": {
            "values": {
                "goal": {"text": {"value": " New goal "}},
                "notes": {"text": {"value": None}},
            }
        }
    }
    assert form_values(typed) == ("New goal", "")
