"""Pure builders of everything the crew posts: plain data in, Markdown out.

Markers are added by `bot.runs.publish`, not here, so these stay easy to compare in tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.roster.models import Role

CHECK = {"pass": "x", "fail": " ", "n/a": "x"}
STATUS_WORD = {"pass": "pass", "fail": "**fail**", "n/a": "n/a"}


def _header(role: Role, title: str) -> str:
    return f"### {role.github.header} · {title}"


def _bullets(items: Sequence[str]) -> str:
    return "\n".join(f"- {item}" for item in items) or "- none"


def plan_comment(role: Role, plan: dict[str, Any]) -> str:
    steps = "\n".join(
        f"{n}. **{s['title']}**" + (f" — {s['detail']}" if s.get("detail") else "")
        for n, s in enumerate(plan["steps"], 1)
    )
    return "\n\n".join(
        [
            _header(role, "Plan"),
            plan["summary"],
            f"**Steps**\n{steps}",
            f"**Approach**\n{plan['approach']}",
            f"**Unknowns**\n{_bullets(plan.get('unknowns', []))}",
            f"**Files**\n{_bullets([f'`{f}`' for f in plan.get('files', [])])}",
        ]
    )


def research_comment(role: Role, research: dict[str, Any]) -> str:
    verdict = "plan confirmed" if research["verdict"] == "confirmed" else "plan needs revision"
    return "\n\n".join(
        [
            _header(role, f"Research: {verdict}"),
            research["notes"],
            f"**Risks**\n{_bullets(research.get('risks', []))}",
            f"**Suggestions**\n{_bullets(research.get('suggestions', []))}",
        ]
    )


def pull_title(run_title: str, issue_number: int | None) -> str:
    title = run_title.strip() or "Changes by the crew"
    return f"{title} (#{issue_number})" if issue_number else title


def pull_body(
    role: Role, change: dict[str, Any], *, issue_number: int | None, tests: str = ""
) -> str:
    files = "\n".join(f"- `{c['path']}`: {c['what']}" for c in change["changes"]) or "- none"
    parts = [
        _header(role, "Pull request"),
        f"Closes #{issue_number}" if issue_number else "",
        f"**Summary**\n{change['summary']}",
        f"**Changes by file**\n{files}",
        f"**How it was tested**\n{change['testing']}" + (f"\n\n{tests}" if tests else ""),
        f"**Risks**\n{_bullets(change.get('risks', []))}",
        "_A human decides whether this is merged; the crew never merges._",
    ]
    return "\n\n".join(part for part in parts if part)


def checklist(items: Sequence[dict[str, Any]]) -> str:
    return "\n".join(
        f"- [{CHECK[i['status']]}] {i['item']} — {STATUS_WORD[i['status']]}: {i['reason']}"
        for i in items
    )


def review_body(
    role: Role,
    review: dict[str, Any],
    *,
    resolved: Sequence[str] = (),
    unplaced: Sequence[dict[str, Any]] = (),
    dropped: int = 0,
    scope: str = "",
) -> str:
    """The review's body; `scope` says what it covered when not the whole change."""
    parts = [
        _header(role, "Review"),
        *([f"_{scope}_"] if scope else []),
        review["summary"],
        f"**Security checklist**\n{checklist(review['checklist'])}",
    ]
    if resolved:
        parts.append("**Resolved since the last review**\n" + _bullets(list(resolved)))
    if unplaced:
        lines = [f"`{c['path']}:{c['line']}` ({c['severity']}) {c['body']}" for c in unplaced]
        parts.append("**Findings outside the diff**\n" + _bullets(lines))
    if dropped:
        parts.append(f"_{dropped} lower-priority findings left out (the review's noise budget)._")
    return "\n\n".join(parts)


def inline_body(comment: dict[str, Any]) -> str:
    body = f"**{comment['severity']}** · {comment['rule']}: {comment['body']}"
    if comment.get("suggestion"):
        body += f"\n\n```suggestion\n{comment['suggestion'].rstrip()}\n```"
    return body


def test_summary(report: dict[str, Any]) -> str:
    counts = ", ".join(f"{n} {k}" for k, n in report["counts"].items() if n) or "no tests ran"
    lines = [f"**{counts}** in {report['duration_seconds']:.1f} s ({report['sandbox']})"]
    if report.get("compared"):
        lines.append(f"Compared with the base: {report['compared']}.")
    for failure in report.get("failures", [])[:20]:
        lines.append(f"- `{failure['test']}`: {failure['message']}")
    if report.get("analysis"):
        lines.append(f"\n{report['analysis']}")
    return "\n".join(lines)


def vote_comment(
    lead: Role, votes: Sequence[tuple[Role, str, str]], *, needed: int, passed: bool
) -> str:
    approvals = sum(1 for _, decision, _ in votes if decision == "approve")
    rows = "\n".join(
        f"| {role.github.header} | {'✅ approve' if decision == 'approve' else '✋ changes'} "
        f"| {reason} |"
        for role, decision, reason in votes
    )
    outcome = "ready for a human review" if passed else "not agreed"
    return "\n\n".join(
        [
            _header(lead, f"Vote: Consensus {approvals}/{len(votes)}"),
            f"| agent | vote | reason |\n|---|---|---|\n{rows}",
            f"**{approvals} of {len(votes)} approve ({needed} needed): {outcome}.** "
            "A human decides the merge.",
        ]
    )


def stop_notice(lead: Role, state: str, reason: str) -> str:
    words = state.replace("_", " ")
    return f"{_header(lead, f'Run {words}')}\n\n{reason}"
