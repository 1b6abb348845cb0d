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
from bot.roster.models import ReviewConfig, Role
from bot.runs import comments as render
from bot.runs.diff import FileDiff, commentable_lines
from bot.runs.memory import context_for, kind_of
from bot.runs.publish import ensure_review
from bot.runs.review_diff import ATTRIBUTES, HEAD_LINES, ReviewDiff, misplaced_comments, review_diff
from bot.runs.states import RunState
from bot.runs.step_services import StepServices
from bot.runs.steps import pull_memory
from bot.runs.steps.answers import SUBMIT_REVIEW
from bot.runs.steps.bench import bench_for
from bot.runs.steps.common import StepResult, ask, step_key
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
    read = pull_memory.read_pull(services, run, role)
    files, memory = read.files, read.memory
    placeable = commentable_lines(read.changed)
    tools = tools_for(role, bench_for(services, read.git, files))
    view = _view(read.git, files, read.changed, max_bytes=crew.review.max_diff_bytes, tools=tools)
    already = {**_earlier_findings(outputs), **_remembered(memory)}
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
            extra=_since(read.start)
            + "## The diff\n"
            + fence_untrusted(view.text, source="the diff"),
        ),
        tools=tools,
        previous="\n".join(f"- {label}" for label in already.values()),
    )
    fingerprinted = _fingerprinted(files, answer["comments"])
    inline, outside, dropped = triage(
        fingerprinted, placeable=placeable, already=already, config=crew.review
    )
    # An earlier finding the reviewer no longer reports is taken as fixed.
    current = {c["fingerprint"] for c in fingerprinted}
    head = read.git.head_sha()
    output = _review_output(answer, inline, outside, event="", sha=head, resolved=[])
    findings, fixed = pull_memory.settle(
        memory.findings if memory else {}, output["findings"], current, files=files, head=head
    )
    resolved = _resolved(findings, fixed, already, current, person=memory is not None)
    event = _review_event(answer["verdict"], may_approve=crew.review.may_approve)
    body = render.review_body(
        role, answer, resolved=resolved, unplaced=outside, dropped=dropped, scope=_scope(read.start)
    )
    _post(services, run, key, role, ReviewDraft(body, event, head, _inline(inline, memory)))
    output = _review_output(answer, inline, outside, event=event, sha=head, resolved=resolved)
    if memory is not None:
        done = pull_memory.finish(
            services,
            run,
            read,
            head=head,
            findings=findings,
            resolved=fixed,
            new=len(inline) + len(outside),
            header=role,
        )
        output.update(pull=done.__dict__)
    return StepResult(_after_review(run, event, crew.max_fix_rounds), key, role, output)


def _after_review(run: Run, event: str, max_fix_rounds: int) -> RunState:
    if run.mode == pull_memory.AUTO:  # an automatic review ends once it is posted
        return RunState.DONE
    if run.mode == "review":  # `/crew review`: the reviewer alone; the humans take it from here
        return RunState.AWAITING_HUMAN
    wants_changes = event == "REQUEST_CHANGES" and run.fix_rounds < max_fix_rounds
    return RunState.FIXING if wants_changes else RunState.TESTING


def _fingerprinted(files: Workspace, comments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each comment with the code line it flags and its fingerprint."""
    return [
        {**c, "code": code, "fingerprint": fingerprint(c["path"], code, c["rule"])}
        for c in comments
        for code in [_line(files, c["path"], c["line"]).rstrip("\n")]
    ]


def _resolved(
    findings: dict[str, Any],
    fixed: list[str],
    already: dict[str, str],
    current: set[str],
    *,
    person: bool,
) -> list[str]:
    """Labels of the findings this review takes as fixed: on a person's pull request those
    whose line changed or went away; on the crew's, every earlier one no longer reported."""
    if person:
        return [findings[fp]["label"] for fp in fixed]
    return [label for fp, label in already.items() if fp not in current]


def _inline(comments: list[dict[str, Any]], memory: Any) -> tuple[InlineComment, ...]:
    """The inline comments; on a person's pull request each hides its finding's fingerprint,
    so its thread is found and resolved when a push fixes it."""
    return tuple(
        InlineComment(
            c["path"],
            c["line"],
            render.inline_body(c)
            + (pull_memory.inline_marker(c["fingerprint"]) if memory is not None else ""),
        )
        for c in comments
    )


def _post(services: StepServices, run: Run, key: str, role: Role, draft: ReviewDraft) -> None:
    ensure_review(
        services.forge,
        services.scanner,
        run_id=run.id or 0,
        step=key,
        number=run.pr_number or 0,
        draft=draft,
        role=role.key,
    )


def _since(start: pull_memory.Base) -> str:
    if start.kind != "incremental":
        return ""
    return (
        f"This is an incremental review: the diff below holds only the commits since "
        f"`{start.since[:12]}`, which was reviewed before.\n\n"
    )


def _scope(start: pull_memory.Base) -> str:
    """What the review covered, for people reading it: the new commits, or all of it again."""
    if start.kind == "incremental":
        return f"Incremental review: only the commits since {start.since[:7]}."
    if start.kind == "forced":
        return "Full review: the branch was rewritten since the last review."
    return ""


def _remembered(memory: Any) -> dict[str, str]:
    """Label by fingerprint of every finding earlier reviews of the pull request posted."""
    if memory is None:
        return {}
    return {fp: f["label"] for fp, f in memory.findings.items()}


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
        {
            "fingerprint": c["fingerprint"],
            "label": f"`{c['path']}:{c['line']}` {c['rule']}",
            "path": c["path"],
            "line": c["line"],
            "code": c.get("code", ""),
        }
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
