"""The structured answers each step asks for, as final tools with JSON schemas.

The schema is the validation layer: an answer that does not fit is a tool error the model
must correct, and nothing is posted until it fits.
"""

from __future__ import annotations

from typing import Any

from bot.llm.tools import Tool, final_tool

TEXT = {"type": "string", "minLength": 1, "maxLength": 20_000}
SHORT = {"type": "string", "minLength": 1, "maxLength": 2_000}
TEXTS = {"type": "array", "items": SHORT, "maxItems": 30}
SEVERITIES = ["info", "low", "medium", "high", "critical"]


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _array(items: dict[str, Any], max_items: int, min_items: int = 0) -> dict[str, Any]:
    """An array schema, its keys in the order the model has always been sent them."""
    bounds = {"minItems": min_items} if min_items else {}
    return {"type": "array", **bounds, "maxItems": max_items, "items": items}


SUBMIT_PLAN: Tool = final_tool(
    "submit_plan",
    "Give the plan for the task.",
    _object(
        {
            "summary": TEXT,
            "steps": _array(_object({"title": SHORT, "detail": TEXT}, ["title"]), 20, 1),
            "unknowns": TEXTS,
            "approach": TEXT,
            "files": TEXTS,
        },
        ["summary", "steps", "approach"],
    ),
)

SUBMIT_RESEARCH: Tool = final_tool(
    "submit_research",
    "Give your check of the plan against the repository.",
    _object(
        {
            "verdict": {"enum": ["confirmed", "revise"]},
            "notes": TEXT,
            "risks": TEXTS,
            "suggestions": TEXTS,
        },
        ["verdict", "notes"],
    ),
)

SUBMIT_CHANGE: Tool = final_tool(
    "submit_change",
    "Describe the change you made once the work is done and the tests pass.",
    _object(
        {
            "summary": TEXT,
            "changes": _array(_object({"path": SHORT, "what": SHORT}, ["path", "what"]), 50),
            "testing": TEXT,
            "risks": TEXTS,
        },
        ["summary", "changes", "testing"],
    ),
)

SUBMIT_REVIEW: Tool = final_tool(
    "submit_review",
    "Give your review of the pull request.",
    _object(
        {
            "summary": TEXT,
            "verdict": {"enum": ["comment", "request_changes", "approve"]},
            "comments": _array(
                _object(
                    {
                        "path": SHORT,
                        "line": {"type": "integer", "minimum": 1},
                        "body": TEXT,
                        "severity": {"enum": SEVERITIES},
                        "rule": {"type": "string", "minLength": 1, "maxLength": 80},
                        "suggestion": {"type": "string", "maxLength": 20_000},
                    },
                    ["path", "line", "body", "severity", "rule"],
                ),
                50,
            ),
            "checklist": _array(
                _object(
                    {"item": SHORT, "status": {"enum": ["pass", "fail", "n/a"]}, "reason": SHORT},
                    ["item", "status", "reason"],
                ),
                20,
                1,
            ),
        },
        ["summary", "verdict", "comments", "checklist"],
    ),
)

SUBMIT_TEST_REPORT: Tool = final_tool(
    "submit_test_report",
    "Give your analysis of the test run.",
    _object({"analysis": TEXT}, ["analysis"]),
)

SUBMIT_VOTE: Tool = final_tool(
    "submit_vote",
    "Cast your vote.",
    _object(
        {"decision": {"enum": ["approve", "request_changes"]}, "reason": SHORT},
        ["decision", "reason"],
    ),
)

SUBMIT_THREAD_REPLY: Tool = final_tool(
    "submit_thread_reply",
    "Give your answer to the latest comment in the review thread.",
    _object({"reply": TEXT}, ["reply"]),
)
