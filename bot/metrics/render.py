"""The collaboration metrics in words, for `/crew metrics` and `repocrew metrics`: a pure
builder returning (fallback text, Block Kit blocks)."""

from __future__ import annotations

from bot.metrics.collaboration import Metrics
from bot.slack.blocks import MAX_SECTION_TEXT, check_blocks, clip, escape


def render_metrics(metrics: Metrics) -> tuple[str, list[dict]]:
    """Headline numbers, waits, cost by role and the hand-off matrix, one section each."""
    sections = [_headline(metrics), _waits(metrics), _usage(metrics), _matrix(metrics)]
    sections.append(_questions(metrics))
    sections = [section for section in sections if section]
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT)}}
        for text in sections
    ]
    problems = check_blocks(blocks)
    if problems:  # a builder bug: every section is clipped
        raise ValueError("; ".join(problems))
    return "\n\n".join(sections), blocks


def _headline(m: Metrics) -> str:
    window = f"{m.start:%Y-%m-%d %H:%M} – {m.end:%Y-%m-%d %H:%M} UTC"
    rounds = (
        f"{m.review_rounds_average:.1f} review rounds per run (max {m.review_rounds_max})"
        if m.review_rounds_average is not None
        else "no run reviewed"
    )
    outcomes = _tally(m.outcomes) or "none"
    raised = _tally(m.blockers_raised) or "none"
    return "\n".join(
        [
            f"📈 *Crew metrics* {window}",
            f"• {_count(m.prs_opened, 'PR')} opened, {_count(m.reviews, 'review')}, {rounds}",
            f"• Runs ended: {outcomes}",
            f"• Blockers raised: {raised}; resolved: {m.blockers_resolved}",
            f"• {_count(m.standups_held, 'standup')} held, "
            f"{_count(m.slack_messages_sent, 'Slack message')} sent",
        ]
    )


def _waits(m: Metrics) -> str:
    return (
        f"⏱️ *Median waits*: task to PR {duration(m.task_to_pr_seconds)}, "
        f"PR to a human's decision {duration(m.pr_to_decision_seconds)}"
    )


def _usage(m: Metrics) -> str:
    if not m.usage:
        return "💰 *Model use*: no calls"
    lines = [
        f"• {escape(role)}: {_count(u.calls, 'call')}, {u.input_tokens + u.output_tokens:,} tokens "
        f"({u.input_tokens:,} in, {u.output_tokens:,} out), ${u.cost_usd:.2f}"
        for role, u in m.usage.items()
    ]
    total = sum(u.cost_usd for u in m.usage.values())
    return f"💰 *Model use* (${total:.2f} in all)\n" + "\n".join(lines)


def _matrix(m: Metrics) -> str:
    if not m.interactions:
        return "🤝 *Hand-offs*: none"
    lines = [
        f"• {escape(giver)} → " + ", ".join(f"{escape(t)} {n}" for t, n in takers.items())
        for giver, takers in m.interactions.items()
    ]
    return "🤝 *Hand-offs* (who gave work or feedback to whom)\n" + "\n".join(lines)


def _questions(m: Metrics) -> str:
    """Only when an agent asked or was answered in the window (most crews never ask)."""
    q = m.questions
    if not q.asked and not q.answered:
        return ""
    asked = ", ".join(
        f"{escape(asker)} → " + ", ".join(f"{escape(to)} {n}" for to, n in addressees.items())
        for asker, addressees in q.asker_to_addressee.items()
    )
    return (
        f"❓ *Questions*: {q.asked} asked ({q.asked_humans} to the humans), {q.answered} "
        f"answered; median answer {duration(q.answer_seconds)} "
        f"(humans {duration(q.human_answer_seconds)})" + (f"\n• {asked}" if asked else "")
    )


def duration(seconds: float | None) -> str:
    """A wait as people say it: minutes, hours and minutes, or days."""
    if seconds is None:
        return "n/a"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours / 24:.1f} days"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _tally(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {state.replace('_', ' ')}" for state, count in counts.items())
