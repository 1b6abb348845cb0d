"""The standup's words: templates the builders fill from the facts (edit the wording here).

A model may later polish the filled-in text (see `bot.standups.run.Polish`); without one the
standup posts these words as they are.
"""

from __future__ import annotations

WORDS = {
    "open": "🗓️ *Standup · {day}*\nWhat the crew did since {since}, what it does today, "
    "and what holds it up.",
    "open_context": "{lead} opens; each agent answers in this thread. Reply here with your "
    "own update: it goes into the next summary.",
    "yesterday": "✅ *Yesterday*",
    "today": "🎯 *Today*",
    "blockers": "⚠️ *Blockers*",
    "needs": "🤝 *Needs*",
    "none": "none",
    "quiet": "Nothing to report: no work since {since} and nothing on my list today.",
    "summary": "📋 *Summary* since {since}: {totals}.",
    "ended": "Runs ended: {ended}.",
    "active": "In progress: {active}.",
    "flow": "*Who hands work to whom*",
    "blocker_total": "⚠️ {count} blocker(s): {kinds}.",
    "humans": "*From the humans* (replies to the {day} standup)",
    "quiet_team": "📋 *Summary*: a quiet day. Nothing happened since {since} and nothing is "
    "in progress.",
    "more": "…and {count} more",
}
DONE = {
    "plan": "Wrote the plan for {run}",
    "research": "Researched {run}",
    "code": "Opened {run}",
    "fix": "Pushed fixes to {run}",
    "vote": "Counted the vote on {run}",
}
VERDICTS = {"REQUEST_CHANGES": "asked for changes", "APPROVE": "approved", "COMMENT": "commented"}
DOING = {
    "plan": "Planning",
    "research": "Researching",
    "code": "Coding",
    "review": "Reviewing",
    "fix": "Fixing",
    "test": "Testing",
    "vote": "Voting on",
}
WORK = {
    "plan": ("the plan", "for"),
    "research": ("the research", "for"),
    "code": ("the code", "for"),
    "review": ("the review", "of"),
    "fix": ("the fixes", "for"),
    "test": ("the test results", "for"),
    "vote": ("the vote", "on"),
}
BLOCKED = {
    "awaiting_human": "{run} waits for a human decision",
    "awaiting_answer": "{run} waits for a human's answer to: {reason}",
    "failed": "{run} failed: {reason}",
    "budget_exhausted": "{run} stopped at its budget ({reason})",
    "tests_failing": "Tests fail on {run} ({reason})",
}
ASKS = {
    "decision": "a human reviewer: a decision on {run}",
    "go": "a human: the go-ahead for {run}",
    "answer": "an answer from the humans to: {about}, for {run}",
}
SPRINT = {
    "goal": "🏁 *Sprint goal* ({repo}): {goal}\nToday is day {day} of {days}{late}.",
    "late": ", past its last day",
    "starting": "Starting {task}: every task it depends on is delivered",
    "running": "{task} ({run}): {state}",
    "running_alone": "{task}: running",
    "waiting": "{task} is waiting for {needed} from the {owner}",
    "need": "{owner}'s {needed} (for task {task})",
    "failed": "{task} failed: {reason}",
    "blocked": "{task} is blocked: {reason}",
    "chain": "🔗 *Dependency chain* of “{goal}”",
    "unblocks": "unblocks {tasks}",
    "unblocked": "unblocked {tasks}",
    "chain_end": "the end of the chain",
    "waits_for": "waiting for {tasks}",
    "ready": "ready to start",
}
