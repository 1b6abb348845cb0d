"""What the standup says: pure builders from the facts to Slack posts, words from `words`.

The lead opens the thread, every other role answers under its persona with ✅ Yesterday,
🎯 Today, ⚠️ Blockers and 🤝 Needs, and the lead closes with who hands work to whom. Each
post carries its outbox key, so posting the standup again edits it instead of repeating it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date

from bot.roster.models import Crew
from bot.runs.memory import kind_of
from bot.slack.blocks import MAX_BLOCKS, MAX_SECTION_TEXT, check_blocks, clip, escape
from bot.standups import sprint_render
from bot.standups.facts import HUMAN, Blocker, Handoff, Need, RoleFacts, RunRef, TeamFacts
from bot.standups.sprint_facts import SprintFacts
from bot.standups.words import ASKS, BLOCKED, DOING, DONE, VERDICTS, WORDS, WORK
from bot.store.standups import THREAD_PREFIX, StandupPost

MAX_ITEMS = 8  # bullets per heading; the rest are counted
MAX_LINE = 300
MAX_FALLBACK = 3000


def thread_key(channel: str, day: date) -> str:
    """The outbox thread of a standup; its posts' keys are `<thread>:<role>`."""
    return f"{THREAD_PREFIX}{channel}:{day.isoformat()}"


def standup_posts(
    crew: Crew,
    facts: TeamFacts,
    *,
    channel: str,
    day: date,
    since: date,
    updates: Sequence[tuple[str, str]] = (),
    updates_day: date | None = None,
    sprints: Sequence[SprintFacts] = (),
    roles: Sequence[str] | None = None,
) -> list[StandupPost]:
    """The whole standup in posting order: the lead's opening, each agent, the lead's summary.

    `updates` are (Slack user id, text) replies to the standup of `updates_day`; `sprints`
    the running sprints (their goal and day open it, their chains close it); `roles` are the
    agents reporting in this channel (`bot.roster.routing.standup_roles`; default all).
    """
    thread = thread_key(channel, day)
    lead = crew.roles[crew.lead]
    opening = [WORDS["open"].format(day=_day(day), since=_day(since))]
    opening += sprint_render.openings(sprints)
    context = WORDS["open_context"].format(lead=escape(lead.slack.username))
    posts = [_post(f"{thread}:{lead.key}", lead.key, opening, context, parent=True)]
    for key, role in crew.roles.items():
        if key != crew.lead and (roles is None or key in roles):
            body = agent_update(crew, facts, facts.roles[key], since=since, sprints=sprints)
            context = f"{escape(role.slack.username)} · {escape(clip(role.job, MAX_LINE))}"
            posts.append(_post(f"{thread}:{key}", key, body, context))
    summary = lead_summary(
        crew, facts, since=since, updates=updates, updates_day=updates_day, sprints=sprints
    )
    context = f"{escape(lead.slack.username)} · standup of {_day(day)}"
    posts.append(_post(f"{thread}:{lead.key}:summary", lead.key, summary, context))
    return posts


def agent_update(
    crew: Crew,
    facts: TeamFacts,
    role: RoleFacts,
    *,
    since: date,
    sprints: Sequence[SprintFacts] = (),
) -> list[str]:
    """One agent's four headings (sections of mrkdwn), or one line when it has nothing; its
    sprint tasks follow its runs under Today, Blockers and Needs."""
    runs = facts.runs
    today, blockers, needs = sprint_render.role_lines(crew, sprints, role.role, runs)
    if role.quiet and not (today or blockers or needs):
        return [WORDS["quiet"].format(since=_day(since))]
    return [
        _heading("yesterday", _yesterday(role, runs)),
        _heading("today", [f"{DOING[w.step]} {_run(runs[w.run_id])}" for w in role.today] + today),
        _heading("blockers", [_blocker(b, runs) for b in role.blockers] + blockers),
        _heading("needs", [_need(crew, n, runs) for n in role.needs] + needs),
    ]


def lead_summary(
    crew: Crew,
    facts: TeamFacts,
    *,
    since: date,
    updates: Sequence[tuple[str, str]] = (),
    updates_day: date | None = None,
    sprints: Sequence[SprintFacts] = (),
) -> list[str]:
    """The lead's closing: totals, the sprints' dependency chains in order, who hands work to
    whom, the blockers and the humans' notes."""
    roles = facts.roles.values()
    blockers = [blocker for role in roles for blocker in role.blockers]
    quiet = all(role.quiet for role in roles) and not (facts.ended or facts.chain or updates)
    if quiet and not sprints:
        return [WORDS["quiet_team"].format(since=_day(since))]
    tests = [test for role in roles for test in role.tests]
    totals = [
        _count(sum(len(role.steps) for role in roles), "step finished", "steps finished"),
        _count(sum(len(role.prs_opened) for role in roles), "PR opened", "PRs opened"),
        _count(sum(len(role.reviews) for role in roles), "review", "reviews"),
        _count(len(tests), "test run", "test runs")
        + f" ({sum(1 for test in tests if not test.passed)} failed)" * bool(tests),
        _count(sum(len(role.votes) for role in roles), "vote", "votes"),
    ]
    head = [WORDS["summary"].format(since=_day(since), totals=", ".join(totals))]
    if facts.ended:
        head.append(WORDS["ended"].format(ended=_tally(facts.ended)))
    if facts.active:
        head.append(WORDS["active"].format(active=_tally(facts.active)))
    sections = ["\n".join(head)]
    sections += [
        f"{title}\n{_bullets(lines)}" for title, lines in sprint_render.chains(crew, sprints)
    ]
    if facts.chain:
        lines = [_handoff(crew, link, facts.runs) for link in facts.chain]
        sections.append(WORDS["flow"] + "\n" + _bullets(lines))
    if blockers:
        kinds = _tally(dict(sorted(Counter(b.kind for b in blockers).items())))
        sections.append(WORDS["blocker_total"].format(count=len(blockers), kinds=kinds))
    if updates:
        heading = WORDS["humans"].format(day=_day(updates_day) if updates_day else "last")
        lines = [f"<@{escape(user)}>: {escape(_unescape(text))}" for user, text in updates]
        sections.append(heading + "\n" + _bullets(lines))
    return sections


def with_text(post: StandupPost, text: str) -> StandupPost:
    """The post in other words (a model's polish), keeping its key, persona and thread; the
    words are escaped like any other text, so a polish cannot add a mention or a link."""
    return _post(post.key, post.role, [escape(_unescape(text))], post.context, parent=post.parent)


# -- phrases ---------------------------------------------------------------------------


def _yesterday(role: RoleFacts, runs: dict[int, RunRef]) -> list[str]:
    reviews = {(r.run_id, r.step): r for r in role.reviews}
    tests = {(t.run_id, t.step): t for t in role.tests}
    lines = []
    for done in role.steps:
        run, kind = _run(runs[done.run_id]), kind_of(done.step)
        if (done.run_id, done.step) in reviews:
            review = reviews[(done.run_id, done.step)]
            verdict = VERDICTS.get(review.event, review.event.lower())
            comments = _count(review.inline_comments, "inline comment", "inline comments")
            lines.append(f"Reviewed {run}: {verdict}, {comments}")
        elif (done.run_id, done.step) in tests:
            test = tests[(done.run_id, done.step)]
            if test.not_run:
                lines.append(f"Could not run the tests on {run}: no sandbox")
                continue
            outcome = "passed" if test.passed else "failed"
            counts = f"{test.passed_count} passed" + f", {test.failed_count} failed" * bool(
                test.failed_count
            )
            lines.append(f"Ran the tests on {run}: {outcome} ({counts})")
        else:
            lines.append(DONE.get(kind, "Finished {step} on {run}").format(run=run, step=done.step))
    for vote in role.votes:
        decision = "approve" if vote.decision == "approve" else "for changes"
        lines.append(f"Voted {decision} on {_run(runs[vote.run_id])} (round {vote.round})")
    return lines


def _blocker(blocker: Blocker, runs: dict[int, RunRef]) -> str:
    template = BLOCKED.get(blocker.kind, "{run}: {reason}")
    # The engine words a budget stop "budget exhausted: <why>"; the template says the first part.
    reason = blocker.reason.removeprefix("budget exhausted: ") or "no reason given"
    reason = escape(clip(reason, 200))
    return template.format(run=_run(runs[blocker.run_id]), reason=reason)


def _need(crew: Crew, need: Need, runs: dict[int, RunRef]) -> str:
    run = _run(runs[need.run_id])
    if need.who == HUMAN:
        return ASKS[need.step].format(run=run, about=escape(clip(need.about, 200)))
    name = escape(crew.roles[need.who].name)
    what, preposition = WORK.get(need.step, (need.step, "on"))
    return f"{name}: {what} {preposition} {run}"


def _handoff(crew: Crew, link: Handoff, runs: dict[int, RunRef]) -> str:
    run = _run(runs[link.run_id])
    giver = "a human" if link.giver == HUMAN else _the(crew, link.giver)
    if link.taker == HUMAN:
        wanted = {"decision": "a decision", "answer": "an answer"}.get(link.step, "the go-ahead")
        return f"{run}: {giver or 'the crew'} hands it to a human for {wanted}"
    taker, what = _the(crew, link.taker), WORK.get(link.step, (link.step, ""))[0]
    if link.giver is None:
        return f"{run}: {taker} starts on {what}"
    if link.giver == link.taker:
        return f"{run}: {taker} goes on with {what}"
    return f"{run}: {giver} hands it to {taker} for {what}"


def _the(crew: Crew, key: str | None) -> str | None:
    return None if key is None else f"the {escape(crew.roles[key].name)}"


def _run(run: RunRef) -> str:
    ref = sprint_render.run_label(run)
    if run.task:  # a sprint task's run goes by its task, as the sprint's posts name it
        return f"task {escape(run.task)} “{escape(run.title)}” ({ref})"
    return f"{ref} “{escape(run.title)}”" if run.title else ref


def _unescape(text: str) -> str:
    """Slack's own escapes undone, so escaping again shows the text as typed (no pings)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _day(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def _tally(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {state.replace('_', ' ')}" for state, count in counts.items())


# -- shapes ----------------------------------------------------------------------------


def _heading(name: str, lines: list[str]) -> str:
    if not lines:
        return f"{WORDS[name]}: {WORDS['none']}"
    return f"{WORDS[name]}\n{_bullets(lines)}"


def _bullets(lines: list[str]) -> str:
    shown = [f"• {clip(line, MAX_LINE)}" for line in lines[:MAX_ITEMS]]
    if len(lines) > MAX_ITEMS:
        shown.append(f"• {WORDS['more'].format(count=len(lines) - MAX_ITEMS)}")
    return "\n".join(shown)


def _post(key: str, role: str, sections: list[str], context: str, *, parent=False) -> StandupPost:
    text, blocks = _message(sections, context)
    return StandupPost(key, role, text, blocks, context, parent)


def _message(sections: list[str], context: str) -> tuple[str, list[dict]]:
    """Fallback text (all sections) and blocks: a section per heading, then the context."""
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT)}}
        for text in sections[: MAX_BLOCKS - 1]
    ]
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    problems = check_blocks(blocks)
    if problems:  # a builder bug: every input is clipped above
        raise ValueError("; ".join(problems))
    return clip("\n".join(sections), MAX_FALLBACK), blocks
