"""The Block Kit builders, as text snapshots: what the crew says in Slack, and Slack's limits."""

from __future__ import annotations

import pytest

from bot.roster.loader import load_crew
from bot.roster.models import Role
from bot.slack.blocks import (
    ELLIPSIS,
    MAX_SECTION_TEXT,
    Tally,
    awaiting_human,
    check_blocks,
    clip,
    run_ended,
    run_thread_opening,
    step_reply,
)

ROLES = load_crew(None).roles
ISSUE = "https://github.com/acme/shop/issues/42"
PULL = "https://github.com/acme/shop/pull/12"


def role(key: str) -> Role:
    return ROLES[key]


def snapshot(message: tuple[str, list[dict]]) -> str:
    """A message as readable lines: the fallback text, then one line per block."""
    text, blocks = message
    lines = [f"text: {text}"]
    for block in blocks:
        if block["type"] == "section":
            lines.append(f"section: {block['text']['text']}")
        elif block["type"] == "context":
            lines.append("context: " + " | ".join(e["text"] for e in block["elements"]))
        elif block["type"] == "actions":
            buttons = [
                f"[{b['text']['text']}]({b['action_id']}={b['value']}"
                + (f", {b['style']}" if "style" in b else "")
                + (", confirm" if "confirm" in b else "")
                + ")"
                for b in block["elements"]
            ]
            lines.append(f"actions {block['block_id']}: " + " ".join(buttons))
    return "\n".join(lines)


def test_run_thread_opening():
    opening = run_thread_opening(role("lead"), "acme/shop", 42, "Fix the <login> bug & more", ISSUE)
    assert snapshot(opening) == (
        "text: Task: Fix the &lt;login&gt; bug &amp; more for acme/shop#42\n"
        "section: *Task:* <https://github.com/acme/shop/issues/42|Fix the &lt;login&gt; bug "
        "&amp; more> for `acme/shop#42`\n"
        "context: Team Lead leads this run; the crew reports in this thread."
    )


def test_run_thread_opening_of_a_local_run():
    opening = run_thread_opening(role("lead"), "/srv/repos/shop", None, "Tidy up", "")
    assert snapshot(opening) == (
        "text: Task: Tidy up for /srv/repos/shop\n"
        "section: *Task:* Tidy up for `/srv/repos/shop`\n"
        "context: Team Lead leads this run; the crew reports in this thread."
    )


def test_the_plan_is_handed_to_the_coder():
    reply = step_reply(role("planner"), "plan", "1. read\n2. fix", f"{ISSUE}#c1", role("coder"))
    assert snapshot(reply) == (
        "text: Coder, the plan is ready: 1. read\n2. fix\n"
        "section: Coder, the plan is ready. <https://github.com/acme/shop/issues/42#c1|Details>\n"
        "section: 1. read\n2. fix\n"
        "context: Planner · step `plan`"
    )


def test_the_pull_request_is_handed_to_the_reviewer():
    reply = step_reply(role("coder"), "code", "Adds a retry.", PULL, role("reviewer"))
    assert snapshot(reply) == (
        "text: Reviewer, PR #12 is up for review: Adds a retry.\n"
        "section: Reviewer, PR #12 is up for review. "
        "<https://github.com/acme/shop/pull/12|Open PR #12>\n"
        "section: Adds a retry.\n"
        "context: Coder · step `code`"
    )


@pytest.mark.parametrize(
    ("step", "by", "to", "link", "head"),
    [
        ("research", "researcher", "coder", ISSUE, "Coder, the research is in"),
        ("review-1", "reviewer", "coder", f"{PULL}#pullrequestreview-5", "Coder, the review is in"),
        ("fix-2", "coder", "reviewer", f"{PULL}/commits", "Reviewer, PR #12 is updated"),
        ("fix-1", "coder", "tester", "", "Tester, the fixes are in"),
        ("test-1", "tester", None, "", "The test results are in"),
        ("vote", "lead", None, "", "Vote is done"),
    ],
)
def test_handoff_phrasing(step, by, to, link, head):
    text, blocks = step_reply(role(by), step, "", link, role(to) if to else None)
    assert text == head
    assert blocks[0]["text"]["text"].startswith(f"{head}.")


def test_awaiting_a_human():
    votes = (("Planner", "approve"), ("Reviewer", "request_changes"), ("Tester", "approve"))
    message = awaiting_human(7, PULL, Tally(approvals=2, needed=2, votes=votes))
    assert snapshot(message) == (
        "text: Run 7 waits for a human: 2 of 3 agents approve (2 needed). "
        "https://github.com/acme/shop/pull/12\n"
        "section: *The crew waits for you.* <https://github.com/acme/shop/pull/12|The pull "
        "request>: 2 of 3 agents approve (2 needed).\n"
        "section: ✅ Planner\n✋ Reviewer\n✅ Tester\n"
        "actions crew_decision:7: [Approve](crew_approve=7, primary) "
        "[Request changes](crew_request_changes=7) [Stop the run](crew_stop=7, danger, confirm)"
    )
    stop = message[1][-1]["elements"][2]
    assert stop["confirm"]["confirm"] == {"type": "plain_text", "text": "Stop", "emoji": True}


def test_mentions_and_links_in_model_text_are_escaped():
    _, blocks = step_reply(role("reviewer"), "review", "<!channel> see <http://x|here> & go", "")
    assert blocks[1]["text"]["text"] == "&lt;!channel&gt; see &lt;http://x|here&gt; &amp; go"


UNTRUSTED = "<!channel> <!here> <!subteam^S1|@ops> <@U1> <#C1> <https://evil.example|x> &"
HIDDEN = "".join(chr(0xE0000 + ord(c)) for c in "ping all") + "\u202e\u200b"
INERT = "&lt;!channel&gt; &lt;!here&gt; &lt;!subteam^S1|@ops&gt; &lt;@U1&gt; &lt;#C1&gt; "
INERT += "&lt;https://evil.example|x&gt; &amp;"


@pytest.mark.parametrize(
    "build",
    [
        lambda t: run_thread_opening(role("lead"), "acme/shop", 42, t, ISSUE),
        lambda t: step_reply(role("coder"), "code", t, PULL, role("reviewer")),
        lambda t: run_ended(7, "failed", t, PULL),
    ],
    ids=["opening (issue title)", "step reply (model summary)", "run ended (reason)"],
)
def test_the_text_field_is_escaped_as_the_blocks_are(build):
    text, blocks = build(f"{HIDDEN}{UNTRUSTED}")
    assert INERT in text and "<!" not in text and "<@" not in text and "<#" not in text
    assert "<https://evil" not in text and "\U000e0070" not in text and "\u202e" not in text
    sections = " ".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert INERT in sections and "\u202e" not in sections


def test_long_text_is_cut_with_an_ellipsis():
    text, blocks = step_reply(role("planner"), "plan", "x" * 10_000, ISSUE, role("coder"))
    summary = blocks[1]["text"]["text"]
    assert len(summary) == MAX_SECTION_TEXT and summary.endswith(ELLIPSIS)
    assert len(text) == 3000 and text.endswith(ELLIPSIS)
    assert check_blocks(blocks) == []


def test_clip():
    assert clip("short", 10) == "short"
    assert clip("abcdefghij", 10) == "abcdefghij"
    assert clip("abcdefghijk", 10) == "abcdefghi…"


def test_check_blocks_names_what_slack_would_refuse():
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "y" * 3001}}
    assert check_blocks([section] + [{"type": "divider"}] * 50 + [{"type": "video"}]) == [
        "52 blocks (at most 50)",
        "block 0: section text over 3000 characters",
        "block 51: unexpected type 'video'",
    ]
