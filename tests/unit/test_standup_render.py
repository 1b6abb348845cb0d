"""The standup's words: snapshots of the posts built from the seeded store, and their limits."""

from __future__ import annotations

from datetime import date

from jinja2 import Environment, StrictUndefined

from bot.slack.blocks import check_blocks
from bot.standups.facts import Blocker, RoleFacts, RunRef, StepDone, TeamFacts, gather
from bot.standups.render import standup_posts, with_text
from bot.standups.run import POLISH_PROMPT, compose
from bot.standups.schedule import schedule_for
from tests.unit.test_standup_facts import (
    MONDAY_9_BERLIN,
    at,
    berlin_crew,
    make_store,
    monday_window,
    seed,
)

MONDAY, FRIDAY = date(2026, 11, 16), date(2026, 11, 13)

SEEDED_STANDUP = """\
[lead] 🗓️ *Standup · Monday 16 November*
What the crew did since Friday 13 November, what it does today, and what holds it up.
[planner] ✅ *Yesterday*
• Wrote the plan for PR #14 “Fix crash”
• Voted approve on PR #12 “Add login” (round 1)
🎯 *Today*
• Planning run 6 “New run”
⚠️ *Blockers*
• run 5 “Budget run” stopped at its budget (the run would pass $5)
🤝 *Needs*
• Researcher: the research for run 3 “Docs update”
• Researcher: the research for run 7 “Late plan”
[researcher] ✅ *Yesterday*
• Researched PR #14 “Fix crash”
• Voted approve on PR #12 “Add login” (round 1)
🎯 *Today*
• Researching run 3 “Docs update”
• Researching run 7 “Late plan”
⚠️ *Blockers*: none
🤝 *Needs*: none
[coder] ✅ *Yesterday*
• Pushed fixes to PR #12 “Add login”
• Opened PR #14 “Fix crash”
• Voted approve on PR #12 “Add login” (round 1)
🎯 *Today*
• Fixing PR #14 “Fix crash”
⚠️ *Blockers*
• run 4 “Big refactor” failed: the sandbox is unavailable
• PR #12 “Add login” waits for a human decision
🤝 *Needs*
• a human reviewer: a decision on PR #12 “Add login”
[reviewer] ✅ *Yesterday*
• Reviewed PR #12 “Add login”: asked for changes, 3 inline comments
• Reviewed PR #12 “Add login”: commented, 0 inline comments
• Reviewed PR #14 “Fix crash”: commented, 1 inline comment
• Voted approve on PR #12 “Add login” (round 1)
🎯 *Today*: none
⚠️ *Blockers*: none
🤝 *Needs*: none
[tester] ✅ *Yesterday*
• Ran the tests on PR #12 “Add login”: passed (12 passed)
• Ran the tests on PR #14 “Fix crash”: failed (3 passed, 2 failed)
• Voted approve on PR #12 “Add login” (round 1)
🎯 *Today*: none
⚠️ *Blockers*
• Tests fail on PR #14 “Fix crash” (test-1 failed)
🤝 *Needs*
• Coder: the fixes for PR #14 “Fix crash”
[lead] 📋 *Summary* since Friday 13 November: 10 steps finished, 1 PR opened, 3 reviews, \
2 test runs (1 failed), 5 votes.
Runs ended: 1 budget exhausted, 1 failed.
In progress: 1 awaiting human, 1 fixing, 1 queued, 2 researching.
*Who hands work to whom*
• PR #12 “Add login”: the Team Lead hands it to a human for a decision
• PR #14 “Fix crash”: the Tester hands it to the Coder for the fixes
• run 3 “Docs update”: the Planner hands it to the Researcher for the research
• run 6 “New run”: the Planner starts on the plan
• run 7 “Late plan”: the Planner hands it to the Researcher for the research
⚠️ 4 blocker(s): 1 awaiting human, 1 budget exhausted, 1 failed, 1 tests failing."""

QUIET_STANDUP = """\
[lead] 🗓️ *Standup · Monday 16 November*
What the crew did since Friday 13 November, what it does today, and what holds it up.
[planner] Nothing to report: no work since Friday 13 November and nothing on my list today.
[researcher] Nothing to report: no work since Friday 13 November and nothing on my list today.
[coder] Nothing to report: no work since Friday 13 November and nothing on my list today.
[reviewer] Nothing to report: no work since Friday 13 November and nothing on my list today.
[tester] Nothing to report: no work since Friday 13 November and nothing on my list today.
[lead] 📋 *Summary*: a quiet day. Nothing happened since Friday 13 November and nothing is \
in progress."""


def transcript(posts) -> str:
    return "\n".join(f"[{post.role}] {post.text}" for post in posts)


def posts_for(engine):
    crew = berlin_crew()
    schedule = schedule_for(engine, crew, "#crew")
    return compose(engine, crew, schedule, schedule.local_day(MONDAY_9_BERLIN))


def test_the_seeded_standup_reads_as_the_snapshot(tmp_path):
    engine = make_store(tmp_path)
    seed(engine)
    posts = posts_for(engine)
    assert transcript(posts) == SEEDED_STANDUP
    thread = "standup:#crew:2026-11-16"
    assert [(post.key, post.parent) for post in posts] == [
        (f"{thread}:lead", True),
        *[(f"{thread}:{role}", False) for role in ("planner", "researcher", "coder")],
        *[(f"{thread}:{role}", False) for role in ("reviewer", "tester")],
        (f"{thread}:lead:summary", False),
    ]
    coder = posts[3]
    assert [block["type"] for block in coder.blocks] == ["section"] * 4 + ["context"]
    assert coder.blocks[0]["text"]["text"].startswith("✅ *Yesterday*\n• Pushed fixes")
    assert coder.context == (
        "Coder · Writes the change on the crew's branch and fixes what review and tests find."
    )
    assert all(check_blocks(post.blocks) == [] for post in posts)


def test_a_team_with_no_activity_says_nothing_to_report(tmp_path):
    posts = posts_for(make_store(tmp_path))
    assert transcript(posts) == QUIET_STANDUP
    assert [len(post.blocks) for post in posts] == [2] * 7  # one section and the context


def test_the_summary_brings_the_humans_replies_to_the_last_standup(tmp_path):
    engine = make_store(tmp_path)
    start, end = monday_window(engine)
    facts = gather(engine, berlin_crew(), start=start, end=end)
    # Slack escapes what people type; either way it shows as typed, and a mention cannot ping.
    updates = [
        ("U0001", "I'll review <PR #12> & merge"),
        ("U0002", "On leave today, ask &lt;!here&gt; or <@U0003>"),
    ]
    posts = standup_posts(
        berlin_crew(),
        facts,
        channel="#crew",
        day=MONDAY,
        since=FRIDAY,
        updates=updates,
        updates_day=FRIDAY,
    )
    assert posts[-1].text == (
        "📋 *Summary* since Friday 13 November: 0 steps finished, 0 PRs opened, 0 reviews, "
        "0 test runs, 0 votes.\n"
        "*From the humans* (replies to the Friday 13 November standup)\n"
        "• <@U0001>: I'll review &lt;PR #12&gt; &amp; merge\n"
        "• <@U0002>: On leave today, ask &lt;!here&gt; or &lt;@U0003&gt;"
    )


def test_long_lists_are_cut_and_titles_escaped():
    crew = berlin_crew()
    runs = {n: RunRef(n, f"<b>{n}</b> & co", None, "coding") for n in range(1, 13)}
    coder = RoleFacts(
        "coder",
        today=[StepDone(n, "code") for n in range(1, 13)],
        blockers=[Blocker(1, "failed", "x" * 500)],
    )
    roles = {key: RoleFacts(key) for key in crew.roles} | {"coder": coder}
    facts = TeamFacts(at("11-12 23:00"), at("11-15 23:00"), roles, runs)
    posts = standup_posts(crew, facts, channel="#crew", day=MONDAY, since=FRIDAY)
    today = posts[3].blocks[1]["text"]["text"]
    assert today.splitlines() == [
        "🎯 *Today*",
        *[f"• Coding run {n} “&lt;b&gt;{n}&lt;/b&gt; &amp; co”" for n in range(1, 9)],
        "• …and 4 more",
    ]
    blocker = posts[3].blocks[2]["text"]["text"].splitlines()[1]
    assert blocker.endswith("x…") and len(blocker) < 250


def test_polished_words_keep_the_key_persona_and_thread(tmp_path):
    posts = posts_for(make_store(tmp_path))
    polished = with_text(posts[0], "Good morning, crew!")
    assert (polished.key, polished.role, polished.parent) == (posts[0].key, "lead", True)
    assert polished.text == "Good morning, crew!"
    assert polished.blocks[-1] == posts[0].blocks[-1]  # the same small print


def test_the_polish_hook_rewrites_each_post_and_its_prompt_renders(tmp_path):
    engine = make_store(tmp_path)
    crew = berlin_crew()
    schedule = schedule_for(engine, crew, "#crew")
    seen = []

    def polish(role: str, text: str) -> str:
        seen.append(role)
        return f"{role} says: {text.splitlines()[0]}"

    posts = compose(engine, crew, schedule, MONDAY, polish=polish)
    assert seen == ["lead", "planner", "researcher", "coder", "reviewer", "tester", "lead"]
    assert posts[1].text == (
        "planner says: Nothing to report: no work since Friday 13 November and nothing on my "
        "list today."
    )
    environment = Environment(undefined=StrictUndefined)
    template = environment.from_string(POLISH_PROMPT.read_text(encoding="utf-8"))
    role = crew.roles["coder"]
    prompt = template.render(name=role.name, job=role.job, text=posts[3].text)
    assert (
        prompt.startswith("You are Coder on a software crew. Your job: Writes the change")
        and posts[3].text in prompt
    )


def test_a_title_or_polish_cannot_ping_the_channel_or_hide_text():
    crew = berlin_crew()
    tags = "".join(chr(0xE0000 + ord(c)) for c in "ping")
    runs = {1: RunRef(1, f"Fix{tags} <!channel> <!here> <@U1> \u202ebug", None, "coding")}
    coder = RoleFacts("coder", today=[StepDone(1, "code")])
    roles = {key: RoleFacts(key) for key in crew.roles} | {"coder": coder}
    facts = TeamFacts(at("11-12 23:00"), at("11-15 23:00"), roles, runs)
    posts = standup_posts(crew, facts, channel="#crew", day=MONDAY, since=FRIDAY)
    polished = with_text(posts[0], "Morning <!channel>, see <https://evil.example|this>")
    for post in [*posts, polished]:
        said = post.text + "".join(str(block) for block in post.blocks)
        assert "<!" not in said and "<@U1>" not in said and "<https" not in said
        assert "\u202e" not in said and tags not in said
    assert "Fix &lt;!channel&gt; &lt;!here&gt; &lt;@U1&gt; bug" in posts[3].text
