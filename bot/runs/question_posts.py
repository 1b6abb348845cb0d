"""What the crew says about questions (pure): the question on the issue and in Slack, the
daily reminder, the note to a reader whose reply does not count, and the answer as a tool
result. Plain data in, plain data out."""

from __future__ import annotations

from typing import Any

from bot.roster.models import Role
from bot.slack.blocks import MAX_SECTION_TEXT, check_blocks, clip, escape

HOW_TO_ANSWER = (
    "Reply here or in the run's Slack thread: the first reply from someone with write access "
    "to the repository is the answer, and the {name} goes on with it."
)


def _quoted(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.strip().splitlines())


def question_comment(asker: Role, text: str, *, reminder_day: str = "") -> str:
    """The question on the issue (or pull request), under the asking role's header."""
    lead = (
        f"Still waiting for an answer (reminder of {reminder_day}):"
        if reminder_day
        else "A question for the humans before I go on:"
    )
    how = HOW_TO_ANSWER.format(name=asker.name)
    return f"{asker.github.header}\n\n{lead}\n\n{_quoted(text)}\n\n{how}"


def question_message(
    asker: Role, text: str, link: str, *, reminder_day: str = ""
) -> tuple[str, list[dict[str, Any]]]:
    """The question in the run's Slack thread: fallback text and one section."""
    reminder = f" (reminder of {reminder_day})" if reminder_day else ""
    fallback = f"{asker.name} asks the humans{reminder}: {text}"
    where = f" (or on <{link}|the issue>)" if link else ""
    body = (
        f"❓ *{escape(asker.name)}* needs an answer from a human{reminder}:\n>{escape(text)}\n"
        f"Reply in this thread{where}; the first reply from someone with write access to the "
        "repository is the answer."
    )
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": clip(body, MAX_SECTION_TEXT)}}]
    problems = check_blocks(blocks)
    if problems:  # a builder bug: the text is clipped
        raise ValueError("; ".join(problems))
    return clip(fallback, MAX_SECTION_TEXT), blocks


def reader_note(who: str, repo: str) -> str:
    """Why a reply did not answer the question (said once per person and question)."""
    return (
        f"Thanks, {who}, but only people with write access to `{repo}` can answer the crew's "
        "questions, so the run is still waiting for one of them."
    )


def role_answer(answerer: Role, answer: str) -> str:
    """The `ask` tool's result when another role answered."""
    return f"{answerer.name} answers:\n{answer.strip()}"
