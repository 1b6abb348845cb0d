"""What changed between a recorded model request and the one the crew sends now."""

from __future__ import annotations

import copy

from bot.llm.drift import carries_repository, describe_drift

CACHED = {"type": "ephemeral"}
REQUEST = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 8192,
    "system": [
        {"type": "text", "text": "You are Coder.\nHow you work:\n- briefly"},
        {"type": "text", "text": "## The repository\ncalc/ages.py", "cache_control": CACHED},
        {"type": "text", "text": "## The task\nValidate ages.", "cache_control": CACHED},
    ],
    "tools": [
        {"name": "read_file", "description": "Read a file.", "input_schema": {}},
        {"name": "submit_change", "description": "Answer.", "input_schema": {}},
    ],
    "messages": [{"role": "user", "content": [{"type": "text", "text": "[step: code-1] Go."}]}],
}


def changed(edit) -> dict:
    request = copy.deepcopy(REQUEST)
    edit(request)
    return request


def test_the_same_request_has_no_drift_and_moved_cache_marks_are_named():
    moved = changed(lambda r: r["messages"][0]["content"][0].update(cache_control=CACHED))
    assert describe_drift(REQUEST, copy.deepcopy(REQUEST)) == ""
    assert describe_drift(REQUEST, moved) == "the cache breakpoints moved"


def test_a_changed_prompt_line_is_named_with_both_texts():
    def edit(request):
        request["system"][0]["text"] = "You are Coder.\nHow you work, step by step:\n- briefly"

    assert describe_drift(REQUEST, changed(edit)) == (
        'the system prompt differs at line 2: "How you work:" → "How you work, step by step:"'
    )


def test_a_map_new_since_the_recording_tools_and_the_step_prompt_are_named():
    old = changed(lambda r: r["system"].pop(1))

    def edit(request):
        request["tools"].insert(1, {"name": "run", "description": "Run.", "input_schema": {}})
        request["tools"][0]["description"] = "Read a file, with line numbers."
        request["messages"][0]["content"][0]["text"] = "[step: code-1] Reproduce, fix, verify."

    drift = describe_drift(old, changed(edit))
    assert drift.split("; ") == [
        "the repository map (system[1]) is new",
        "tools added: run",
        "tools changed: read_file",
        'the step\'s prompt differs at line 1: "[step: code-1] Go." → '
        '"[step: code-1] Reproduce, fix, verify."',
    ]
    assert carries_repository(REQUEST) and not carries_repository(old)


def test_long_lists_of_changes_stay_on_one_short_line():
    def edit(request):
        request["model"] = "claude-opus-4-1"
        request["max_tokens"] = 4096
        request["system"][2]["text"] = "## The task\n" + "x" * 500
        request["tools"] = []
        request["messages"][0]["content"][0]["text"] = "[step: code-1] Start."

    drift = describe_drift(REQUEST, changed(edit))
    assert "\n" not in drift and len(drift) < 400
    assert drift.startswith("model was 'claude-sonnet-4-5', now 'claude-opus-4-1'; max_tokens")
    assert drift.endswith("; and 1 more") and "x" * 61 not in drift
