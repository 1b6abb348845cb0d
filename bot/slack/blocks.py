"""What the crew says in Slack, as Block Kit: pure builders returning (fallback text, blocks).

Every builder keeps within Slack's limits (at most 50 blocks, section text up to 3000
characters, button labels up to 75) by cutting long text with an ellipsis, and escapes
`&`, `<` and `>` (and drops hidden characters) in the blocks and in the top-level `text` alike,
so a title or summary cannot turn into a link or a mention (`<!channel>`, `<!here>`,
`<!subteam^…>`, `<@…>`, `<#…>`): links and mentions come from these builders alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.roster.models import Role
from bot.security.hidden import strip_hidden

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_CONTEXT_ELEMENTS = 10
MAX_BUTTON_TEXT = 75
MAX_FALLBACK_TEXT = 3000  # notifications show little; Slack's own cap is 40,000
ELLIPSIS = "…"

APPROVE, REQUEST_CHANGES, STOP = "crew_approve", "crew_request_changes", "crew_stop"

# How a finished step is announced; the step key's round suffix ("review-2") is ignored.
STEP_PHRASES = {
    "plan": "the plan is ready",
    "research": "the research is in",
    "code": "the code is ready",
    "review": "the review is in",
    "fix": "the fixes are in",
    "test": "the test results are in",
}
# Steps that end with a pull request to look at, when the link is one.
PULL_PHRASES = {"code": "PR #{number} is up for review", "fix": "PR #{number} is updated"}
PULL_URL = re.compile(r"/pull/(\d+)(?:[/?#]|$)")

Message = tuple[str, list[dict]]


@dataclass(frozen=True)
class Tally:
    """A vote's outcome as the crew's personas cast it: (name, "approve" | "request_changes")."""

    approvals: int
    needed: int
    votes: Sequence[tuple[str, str]] = ()


def run_thread_opening(
    lead_role: Role, repo: str, issue_number: int | None, title: str, url: str
) -> Message:
    """The run's parent message: what the task is; the crew replies in its thread."""
    where = f"{repo}#{issue_number}" if issue_number is not None else repo
    task = _link(url, title)
    lead = lead_role.slack.username
    return _message(
        f"Task: {escape(title)} for {escape(where)}",
        [
            _section(f"*Task:* {task} for `{escape(where)}`"),
            _context(f"{escape(lead)} leads this run; the crew reports in this thread."),
        ],
    )


def step_reply(
    role: Role, step: str, summary: str, link: str, next_role: Role | None = None
) -> Message:
    """A finished step, handed to the next agent by name: "Coder, the plan is ready"."""
    kind = step.split("-", 1)[0]
    pull = PULL_URL.search(link) if link else None
    if pull and kind in PULL_PHRASES:
        phrase = PULL_PHRASES[kind].format(number=pull.group(1))
        label = f"Open PR #{pull.group(1)}"
    else:
        phrase = STEP_PHRASES.get(kind, f"{kind} is done")
        label = "Details"
    if next_role is not None:
        head = f"{next_role.slack.username}, {phrase}"
    else:
        head = phrase[:1].upper() + phrase[1:]
    summary = summary.strip()
    sentence = f"{escape(head)}."
    if link:
        sentence += f" {_link(link, label)}"
    blocks = [_section(sentence)]
    if summary:
        blocks.append(_section(escape(summary)))
    blocks.append(_context(f"{escape(role.slack.username)} · step `{escape(step)}`"))
    text = f"{escape(head)}: {escape(summary)}" if summary else escape(head)
    return _message(text, blocks)


def awaiting_human(run_id: int, pr_url: str, tally: Tally) -> Message:
    """The crew is done and a person decides: approve, request changes, or stop the run."""
    total = len(tally.votes)
    count = f"{tally.approvals} of {total}" if total else str(tally.approvals)
    outcome = f"{count} agents approve ({tally.needed} needed)"
    blocks = [
        _section(f"*The crew waits for you.* {_link(pr_url, 'The pull request')}: {outcome}."),
    ]
    if tally.votes:
        lines = [
            f"{'✅' if decision == 'approve' else '✋'} {escape(name)}"
            for name, decision in tally.votes
        ]
        blocks.append(_section("\n".join(lines)))
    value = str(run_id)
    blocks.append(
        {
            "type": "actions",
            "block_id": f"crew_decision:{run_id}",
            "elements": [
                _button(APPROVE, "Approve", value, style="primary"),
                _button(REQUEST_CHANGES, "Request changes", value),
                {
                    **_button(STOP, "Stop the run", value, style="danger"),
                    "confirm": {
                        "title": _plain("Stop the run?"),
                        "text": _plain("The crew stops working on it; the branch stays."),
                        "confirm": _plain("Stop"),
                        "deny": _plain("Keep going"),
                    },
                },
            ],
        }
    )
    return _message(f"Run {run_id} waits for a human: {outcome}. {_url(pr_url)}", blocks)


def run_ended(run_id: int, state: str, reason: str, link: str) -> Message:
    """A run that ended before a human's decision (failed, stopped, over budget), and why."""
    words = state.replace("_", " ")
    head = f"Run {run_id} {words}"
    blocks = [
        _section(f"*{escape(head)}.* {_link(link, 'Details')}" if link else f"*{escape(head)}.*")
    ]
    blocks.append(_section(escape(reason)))
    return _message(f"{escape(head)}: {escape(reason)}", blocks)


# -- shapes and limits -----------------------------------------------------------------


def escape(text: str) -> str:
    """Text as typed: no hidden characters, and Slack's three control characters escaped (in
    mrkdwn and in a message's `text`), so no mention or link can come out of it."""
    text = strip_hidden(text, markup=False)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, the last being an ellipsis when anything was cut."""
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)] + ELLIPSIS


def check_blocks(blocks: list[dict]) -> list[str]:
    """What breaks Slack's limits in `blocks` (empty: Slack will take them)."""
    problems = [f"{len(blocks)} blocks (at most {MAX_BLOCKS})"] if len(blocks) > MAX_BLOCKS else []
    for index, block in enumerate(blocks):
        kind = block.get("type")
        if kind == "section" and len(block["text"]["text"]) > MAX_SECTION_TEXT:
            problems.append(f"block {index}: section text over {MAX_SECTION_TEXT} characters")
        elif kind == "context" and len(block["elements"]) > MAX_CONTEXT_ELEMENTS:
            problems.append(f"block {index}: over {MAX_CONTEXT_ELEMENTS} context elements")
        elif kind == "actions":
            for element in block["elements"]:
                if len(element["text"]["text"]) > MAX_BUTTON_TEXT:
                    problems.append(f"block {index}: a button label over {MAX_BUTTON_TEXT}")
        elif kind not in ("section", "context", "actions", "divider", "header"):
            problems.append(f"block {index}: unexpected type {kind!r}")
    return problems


def _message(text: str, blocks: list[dict]) -> Message:
    if len(blocks) > MAX_BLOCKS:
        blocks = [*blocks[: MAX_BLOCKS - 1], _context(f"{len(blocks) - MAX_BLOCKS + 1} more…")]
    problems = check_blocks(blocks)
    if problems:  # a builder bug, not bad input: inputs are clipped above
        raise ValueError("; ".join(problems))
    return clip(text, MAX_FALLBACK_TEXT), blocks


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT)}}


def _context(text: str) -> dict:
    element = {"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT)}
    return {"type": "context", "elements": [element]}


def _plain(text: str) -> dict:
    return {"type": "plain_text", "text": text, "emoji": True}


def _button(action_id: str, label: str, value: str, *, style: str | None = None) -> dict:
    button = {
        "type": "button",
        "action_id": action_id,
        "text": _plain(clip(label, MAX_BUTTON_TEXT)),
        "value": value,
    }
    return {**button, "style": style} if style else button


def _link(url: str, label: str) -> str:
    if not url:
        return escape(label)
    return f"<{_url(url)}|{escape(label)}>"


def _url(url: str) -> str:
    """A URL the crew built, unable to end a link or open a mention (`|`, `<`, `>` escaped)."""
    url = strip_hidden(url, markup=False)
    return url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")
