"""Reviewing: the reviewer reads the diff and posts one review with inline comments and a
security checklist; a re-review never repeats a finding and names the ones now fixed."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from functools import partial
from typing import Any

from bot.llm.tools import Tool
from bot.ports.forge import InlineComment, ReviewDraft
from bot.roster.models import ReviewConfig
from bot.runs import comments as render
from bot.runs.diff import FileDiff, commentable_lines, parse_diff
from bot.runs.memory import context_for, kind_of
from bot.runs.publish import ensure_review
from bot.runs.review_diff import ATTRIBUTES, HEAD_LINES, ReviewDiff, misplaced_comments, review_diff
from bot.runs.states import RunState
from bot.runs.step_services import StepServices
from bot.runs.steps.answers import SUBMIT_REVIEW
from bot.runs.steps.bench import bench_for
from bot.runs.steps.common import StepResult, ask, clone, step_key
from bot.runs.steps.workspace_tools import tools_for
from bot.security.untrusted import fence_untrusted
from bot.store.models import Run
from bot.workspace.files import Workspace, WorkspaceError
from bot.workspace.git import GitWorkspace
from bot.workspace.gitcli import check_attr

SEVERITY_ORDER = ["info", "low", "medium", "high", "critical"]


def fingerprint(path: str, code_line: str, rule: str) -> str:
    """Same finding, same fingerprint: path + whitespace-normalised code + rule."""
    normalised = re.sub(r"\s+", " ", code_line).strip()
    return hashlib.sha1(f"{path}\0{normalised}\0{rule.lower()}".encode()).hexdigest()[:16]


def triage(
    comments: list[dict[str, Any]],
    *,
    placeable: dict[str, set[int]],
    already: dict[str, str],
    config: ReviewConfig,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """Split fingerprinted comments into (inline, outside the diff) and count those dropped.

    Findings already posted (by fingerprint) are dropped, findings under the minimum severity
    are dropped, and at most `max_findings` are kept, the most severe first. (The answer's check
    already sent any comment off the diff back to the reviewer: "outside" is a safety net.)
    """
    minimum = SEVERITY_ORDER.index(config.min_severity)
    fresh = [
        c
        for c in comments
        if c["fingerprint"] not in already and SEVERITY_ORDER.index(c["severity"]) >= minimum
    ]
    fresh.sort(key=lambda c: -SEVERITY_ORDER.index(c["severity"]))
    kept, dropped = fresh[: config.max_findings], max(0, len(fresh) - config.max_findings)
    inline = [c for c in kept if c["line"] in placeable.get(c["path"], set())]
    outside = [c for c in kept if c["line"] not in placeable.get(c["path"], set())]
    return inline, outside, dropped


def review(services: StepServices, run: Run, outputs: dict[str, Any]) -> StepResult:
    crew = services.crew
    role = crew.role_for("review")
    key = step_key("review", outputs)
    # The crew's branch, or the PR's head as GitHub keeps it (a fork's has no namesake here).
    git, files = clone(services, run, role, run.branch, pull=None if run.branch else run.pr_number)
    base = f"origin/{services.forge.clone_source().default_branch}"
    changed = parse_diff(git.diff(base, "HEAD"))
    placeable = commentable_lines(changed)
    tools = tools_for(role, bench_for(services, git, files))
    view = _view(git, files, changed, max_bytes=crew.review.max_diff_bytes, tools=tools)
    already = _earlier_findings(outputs)
    answer = ask(
        services,
        run,
        role,
        key,
        kind="review",
        # A comment on a line outside the diff is a tool error the reviewer corrects.
        answer=replace(SUBMIT_REVIEW, check=partial(misplaced_comments, placeable)),
        context=context_for(
            "review",
            run,
            outputs,
            extra="## The diff\n" + fence_untrusted(view.text, source="the diff"),
        ),
        tools=tools,
        previous="\n".join(f"- {label}" for label in already.values()),
    )
    fingerprinted = [
        {**c, "fingerprint": fingerprint(c["path"], _line(files, c["path"], c["line"]), c["rule"])}
        for c in answer["comments"]
    ]
    inline, outside, dropped = triage(
        fingerprinted, placeable=placeable, already=already, config=crew.review
    )
    # An earlier finding the reviewer no longer reports is taken as fixed.
    current = {c["fingerprint"] for c in fingerprinted}
    resolved = [label for fp, label in already.items() if fp not in current]
    event = _review_event(answer["verdict"], may_approve=crew.review.may_approve)
    head = git.head_sha()
    ensure_review(
        services.forge,
        services.scanner,
        run_id=run.id or 0,
        step=key,
        number=run.pr_number or 0,
        draft=ReviewDraft(
            render.review_body(role, answer, resolved=resolved, unplaced=outside, dropped=dropped),
            event,
            head,
            tuple(InlineComment(c["path"], c["line"], render.inline_body(c)) for c in inline),
        ),
        role=role.key,
    )
    output = _review_output(answer, inline, outside, event=event, sha=head, resolved=resolved)
    if run.mode == "review":  # `/crew review`: the reviewer alone; the humans take it from here
        return StepResult(RunState.AWAITING_HUMAN, key, role, output)
    wants_changes = event == "REQUEST_CHANGES" and run.fix_rounds < crew.max_fix_rounds
    return StepResult(RunState.FIXING if wants_changes else RunState.TESTING, key, role, output)


def _view(
    git: GitWorkspace,
    files: Workspace,
    changed: list[FileDiff],
    *,
    max_bytes: int,
    tools: list[Tool],
) -> ReviewDiff:
    """The numbered diff the reviewer reads; files past the cap are named with the tools that
    read them."""
    names = [tool.name for tool in tools if tool.name in ("read_file", "git_diff")]
    return review_diff(
        changed,
        attributes=check_attr(git.root, [f.path for f in changed], ATTRIBUTES),
        head=lambda path: _head(files, path),
        max_bytes=max_bytes,
        readers=" or ".join(names) or "your tools",
    )


def _head(files: Workspace, path: str) -> str:
    """A file's first lines, where a generator leaves its marker ("" if it cannot be read)."""
    try:
        return files.read(path, start_line=1, end_line=HEAD_LINES)
    except WorkspaceError:
        return ""


def _review_event(verdict: str, *, may_approve: bool) -> str:
    """GitHub's review event for the verdict; an approval the crew may not give is a comment."""
    if verdict == "approve" and not may_approve:
        verdict = "comment"
    return {"request_changes": "REQUEST_CHANGES", "approve": "APPROVE"}.get(verdict, "COMMENT")


def _earlier_findings(outputs: dict[str, Any]) -> dict[str, str]:
    """Label by fingerprint of every finding earlier reviews posted, so none is repeated."""
    earlier = [content for k, content in outputs.items() if kind_of(k) == "review"]
    return {f["fingerprint"]: f["label"] for r in earlier for f in r.get("findings", [])}


def _review_output(
    answer: dict[str, Any],
    inline: list[dict[str, Any]],
    outside: list[dict[str, Any]],
    *,
    event: str,
    sha: str,
    resolved: list[str],
) -> dict[str, Any]:
    """The saved result: what was posted, and the findings a re-review checks against."""
    findings = [
        {"fingerprint": c["fingerprint"], "label": f"`{c['path']}:{c['line']}` {c['rule']}"}
        for c in inline + outside
    ]
    return {
        **answer,
        "comments": inline + outside,
        "event": event,
        "sha": sha,
        "findings": findings,
        "resolved": resolved,
        "inline_comments": len(inline),
        "checklist_items": len(answer["checklist"]),
    }


def _line(files: Workspace, path: str, line: int) -> str:
    try:
        return files.read(path, start_line=line, end_line=line)
    except WorkspaceError:
        return ""
