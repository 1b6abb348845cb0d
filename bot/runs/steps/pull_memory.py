"""A review of a person's pull request remembers the last one (`bot.store.pull_reviews`):
it reads only the commits since the head last reviewed, never re-posts a known finding, marks
the findings a push fixed as resolved (and resolves their threads), keeps one summary comment
up to date, and, when the pull request moved while it worked, starts the next review.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from bot.roster.models import Role
from bot.runs.diff import FileDiff, parse_diff
from bot.runs.lifecycle import queue_run
from bot.runs.progress import create_run
from bot.runs.review_scope import Scope, scope
from bot.runs.review_summary import SUMMARY_MARKER, ReviewPass, finding_marker, summary_comment
from bot.runs.step_services import StepServices
from bot.runs.steps.common import clone
from bot.store import pull_reviews
from bot.store.model_calls import run_spend
from bot.store.models import Run
from bot.workspace.files import Workspace, WorkspaceError
from bot.workspace.git import GitWorkspace
from bot.workspace.gitcli import run_git

log = logging.getLogger(__name__)
AUTO = "auto"  # the mode of an automatic review run
REVIEW_MODES = (AUTO, "review")  # review-only runs on a person's pull request


@dataclass(frozen=True)
class Base:
    """Where the reviewed diff starts: `rev`, and how the summary says it (ReviewPass.kind)."""

    rev: str
    kind: str
    since: str = ""


def review_base(git: GitWorkspace, default_base: str, reviewed: str) -> Base:
    """The head last reviewed when it is still in the branch's history (incremental), else
    the base branch (full; `forced` when an earlier head was force-pushed away)."""
    if not reviewed:
        return Base(default_base, "full")
    if not re.fullmatch(r"[0-9a-f]{7,64}", reviewed):
        return Base(default_base, "full")
    found = run_git(["merge-base", "--is-ancestor", reviewed, "HEAD"], cwd=git.root, ok=(0, 1, 128))
    if found.returncode == 0:
        return Base(reviewed, "incremental", reviewed)
    return Base(default_base, "forced", reviewed)


@dataclass(frozen=True)
class Reading:
    """What the reviewer reads: the clone, the diff's scope, and (on a person's pull request)
    what earlier reviews of it left."""

    git: GitWorkspace
    files: Workspace
    changed: list[FileDiff]
    covered: Scope
    start: Base
    memory: pull_reviews.PullReviewState | None


def read_pull(services: StepServices, run: Run, role: Role) -> Reading:
    review_config = services.crew.review
    person = run.mode in REVIEW_MODES  # a person's pull request: reviews remember each other
    # The crew's branch, or the PR's head as GitHub keeps it (a fork's has no namesake here).
    git, files = clone(services, run, role, run.branch, pull=None if run.branch else run.pr_number)
    base = f"origin/{services.forge.clone_source().default_branch}"
    memory = known_findings(services, run) if person else None
    start = review_base(git, base, memory.reviewed_sha if memory else "")
    changed = parse_diff(git.diff(start.rev, "HEAD"))
    if not person:
        return Reading(git, files, changed, Scope(tuple(changed)), start, memory)
    covered = scope(
        changed,
        ignore=review_config.ignore_paths,
        max_files=review_config.max_files,
        max_lines=review_config.max_changed_lines,
    )
    return Reading(git, files, list(covered.files), covered, start, memory)


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def still_there(files: Workspace, finding: dict[str, Any]) -> bool:
    """Whether the flagged line is still in its file (whitespace aside): a finding is fixed
    only when its line changed or went away, never because a review did not look there."""
    try:
        text = files.read(finding["path"])
    except WorkspaceError:
        return False  # the file is gone (or unreadable now)
    code = _normalised(finding.get("code", ""))
    return any(_normalised(line) == code for line in text.splitlines()) if code else True


def settle(
    known: dict[str, dict[str, Any]],
    posted: list[dict[str, Any]],
    reported: set[str],
    *,
    files: Workspace,
    head: str,
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The pull request's findings after this review, and the fingerprints now resolved.

    `posted`: this review's new findings (fingerprint, label, path, line, code); `reported`:
    every fingerprint the reviewer reported, repeats included. An open finding is resolved
    when the reviewer no longer reports it and its line changed or went away.
    """
    findings = {fp: dict(f) for fp, f in known.items()}
    resolved = []
    for fp, finding in findings.items():
        if finding.get("status") != "open" or fp in reported or still_there(files, finding):
            continue
        finding.update(status="resolved", resolved_in=head)
        resolved.append(fp)
    for finding in posted:
        findings.setdefault(finding["fingerprint"], {**finding, "status": "open"})
    return findings, resolved


def known_findings(services: StepServices, run: Run) -> pull_reviews.PullReviewState:
    return pull_reviews.state_of(services.engine, repo=run.repo, pr=run.pr_number or 0)


def inline_marker(fingerprint: str) -> str:
    return "\n\n" + finding_marker(fingerprint)


def finish(
    services: StepServices,
    run: Run,
    read: Reading,
    *,
    head: str,
    findings: dict[str, dict[str, Any]],
    resolved: list[str],
    new: int,
    header: Role,
) -> ReviewPass:
    """After the review is posted: resolve the fixed findings' threads, edit the summary,
    record the reviewed head, and start the next review if the pull request moved."""
    number = run.pr_number or 0
    review = ReviewPass(
        head=head,
        kind=read.start.kind,
        since=read.start.since,
        ignored=read.covered.ignored,
        skipped=read.covered.skipped,
        capped_by=read.covered.capped_by,
        new_findings=new,
    )
    services.forge.resolve_threads(number, [finding_marker(fp) for fp in resolved])
    cost = run_spend(services.engine, run.id or 0)[0]
    total = sum(r.cost_usd for r in pull_reviews.review_runs(services.engine, repo=run.repo,
                                                             pr=number))  # fmt: skip
    review = ReviewPass(**{**review.__dict__, "cost_usd": cost, "total_usd": total})
    _upsert_summary(services, number, summary_comment(header.github.header, review, findings))
    wanted = pull_reviews.release(
        services.engine,
        repo=run.repo,
        pr=number,
        reviewed_sha=review.head,
        findings=findings,
        holds=run.mode == AUTO,
    )
    if run.mode == AUTO and wanted != review.head:
        follow_up(services, run)
    return review


def _upsert_summary(services: StepServices, number: int, body: str) -> None:
    text = f"{body}\n\n{SUMMARY_MARKER}\n"
    services.scanner.check_outgoing(text, where="review summary")
    for comment in services.forge.list_comments(number):
        if SUMMARY_MARKER in comment.body and services.forge.is_own(comment.author):
            if comment.body.strip() != text.strip():
                services.forge.update_comment(comment.id, text, role="lead")
            return
    services.forge.create_comment(number, text, role="lead")


def follow_up(services: StepServices, run: Run) -> int | None:
    """A push landed while this review ran: the next automatic review covers the new head."""
    number = run.pr_number or 0
    if not pull_reviews.claim(services.engine, repo=run.repo, pr=number):
        return None  # another run has it (a webhook's, after this one let go)
    run_id = create_run(
        services.engine,
        repo=run.repo,
        clone_url=run.clone_url,
        installation_id=run.installation_id,
        pr_number=number,
        title=run.title,
        task=run.task,
        requested_by=run.requested_by,
        forge=run.forge,
        config=json.loads(run.config),
        mode=AUTO,
    )
    queue_run(services.engine, run_id)
    log.info("run %s queued: %s#%s moved during run %s", run_id, run.repo, number, run.id)
    return run_id
