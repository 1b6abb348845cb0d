"""Coding and fixing: the coder changes the workspace, commits as itself and pushes its branch.

A resumed step finds its own commit on the remote branch by the `Repocrew-Step` trailer, so
a crash after the push never pushes the same work twice, and the pull request is found by its
head branch, so there is only ever one.
"""

from __future__ import annotations

import json
from typing import Any

from bot.environments.build import Environment
from bot.ports.forge import CloneSource
from bot.roster.models import Role
from bot.roster.protected import Protection
from bot.runs import comments as render
from bot.runs.memory import context_for, kind_of
from bot.runs.publish import ensure_pull
from bot.runs.states import RunState
from bot.runs.step_services import StepServices
from bot.runs.steps.answers import SUBMIT_CHANGE
from bot.runs.steps.baseline import baseline
from bot.runs.steps.bench import bench_for
from bot.runs.steps.common import (
    COMMIT_TRAILER,
    StepFailed,
    StepResult,
    ask,
    clone,
    environment_of,
    identity,
    requester_identity,
    step_key,
    tests_not_run,
)
from bot.runs.steps.workspace_tools import tools_for
from bot.runs.thread_replies import reply_with_commit
from bot.security.markdown import clean_text
from bot.security.untrusted import fence_untrusted
from bot.store.models import Run
from bot.workspace.files import Workspace
from bot.workspace.git import GitWorkspace, branch_name
from bot.workspace.guard import PushRefused, check_push

FEEDBACK_KINDS = ("review", "test", "vote", "human")


def code(services: StepServices, run: Run, outputs: dict[str, Any]) -> StepResult:
    return _change(services, run, outputs, kind="code", feedback_key=None)


def fix(services: StepServices, run: Run, outputs: dict[str, Any]) -> StepResult:
    feedback_key = latest_feedback(outputs)
    if feedback_key is None:
        raise StepFailed("there is no feedback to fix")
    return _change(services, run, outputs, kind="fix", feedback_key=feedback_key)


def latest_feedback(outputs: dict[str, Any]) -> str | None:
    keys = [key for key in outputs if kind_of(key) in FEEDBACK_KINDS]
    return keys[-1] if keys else None


def feedback_text(key: str, content: dict[str, Any]) -> str:
    """What the coder is asked to address, by the kind of feedback."""
    kind = kind_of(key)
    if kind == "review":
        comments = [c for c in content.get("comments", []) if c.get("posted", True)]
        lines = [
            f"- `{c['path']}:{c['line']}` ({c['severity']}, {c['rule']}): {c['body']}"
            + (f"\n  suggested:\n```\n{c['suggestion']}\n```" if c.get("suggestion") else "")
            for c in comments
        ]
        failed = [
            f"- {i['item']}: {i['reason']}"
            for i in content.get("checklist", [])
            if i["status"] == "fail"
        ]
        return "\n".join(["The reviewer requested changes:", content["summary"], *lines, *failed])
    if kind == "test":
        return _test_feedback(content)
    if kind == "vote":
        return "The team's vote asked for changes:\n" + "\n".join(
            f"- {v['role']}: {v['reason']}"
            for v in content.get("votes", [])
            if v["decision"] != "approve"
        )
    return "A human reviewer asked for changes:\n" + fence_untrusted(
        json.dumps(content, ensure_ascii=False), source="a human's review"
    )


def _test_feedback(content: dict[str, Any]) -> str:
    """The tester's report: its analysis, the failures the change caused, then the output."""
    broken = (content.get("comparison") or {}).get("broken")
    failures = [f for f in content.get("failures", []) if broken is None or f["test"] in broken]
    lines = ["The tests failed in the sandbox."]
    if content.get("compared"):
        lines.append(f"Compared with the base branch: {content['compared']}.")
    lines += [f"- `{f['test']}`: {f['message']}" for f in failures[:30]]
    report = "\n".join([content.get("analysis", ""), content.get("output", "")]).strip()
    return "\n".join(lines) + "\n" + fence_untrusted(report, source="test output")


def _change(
    services: StepServices,
    run: Run,
    outputs: dict[str, Any],
    *,
    kind: str,
    feedback_key: str | None,
) -> StepResult:
    crew = services.crew
    role = crew.role_for(kind)
    key = step_key(kind, outputs)
    _refuse_forks(services, run)
    branch = run.branch or branch_name(
        crew.branch_prefix, run.issue_number or run.id or 0, run.title
    )
    git, files = clone(services, run, role, branch)
    base = f"origin/{services.forge.clone_source().default_branch}"
    started_at = git.head_sha()  # what this step adds is judged by this role's rights
    environment = _prepare(services, git, kind, started_at)
    feedback = feedback_text(feedback_key, outputs[feedback_key]) if feedback_key else ""
    answer = ask(
        services,
        run,
        role,
        key,
        kind=kind,
        answer=SUBMIT_CHANGE,
        context=context_for(kind, run, outputs),
        tools=tools_for(role, bench_for(services, git, files, environment)),
        feedback=feedback,
    )
    _commit(services, git, files, run, role, answer["summary"], marker=f"{run.id}/{key}")
    changed = git.changed_files(base, "HEAD")
    title = render.pull_title(run.title, run.issue_number)
    body = render.pull_body(role, answer, issue_number=run.issue_number)
    services.scanner.check_outgoing(title + "\n" + body, where="pull request")  # before a push
    source = _push(services, git, branch, base=base, since=(started_at, files.protection))
    pull = ensure_pull(
        services.forge,
        services.scanner,
        run_id=run.id or 0,
        head=branch,
        base=source.default_branch,
        title=title,
        body=body,
        draft=True if kind == "code" else None,
        role=role.key,
    )
    _name_commit(services, run, outputs.get(feedback_key or ""), (key, role), git, pull.url)
    output = {
        **answer,
        "sha": git.head_sha(),
        "branch": branch,
        "pr": pull.number,
        "files": changed,
    }
    fields: dict[str, Any] = {"branch": branch, "pr_number": pull.number}
    if kind != "code":
        fields["fix_rounds"] = run.fix_rounds + 1
    return StepResult(_next_state(kind, feedback_key), key, role, output, fields)


def _name_commit(
    services: StepServices,
    run: Run,
    feedback: dict[str, Any] | None,
    step: tuple[str, Role],
    git: GitWorkspace,
    pull_url: str,
) -> None:
    """A change asked in a review thread: the commit that made it, named in that thread."""
    if feedback is None:
        return
    key, role = step
    reply_with_commit(
        services.forge,  # type: ignore[arg-type]
        services.scanner,
        feedback,
        run_id=run.id or 0,
        step=key,
        sha=git.head_sha(),
        pull_url=pull_url,
        role=role.key,
    )


def _prepare(services: StepServices, git: GitWorkspace, kind: str, started_at: str) -> Environment:
    """The environment, set up before the coder starts (a set-up that fails ends the run with
    its report); on the first change, the base's test results too (kept for the tester)."""
    environment = environment_of(services, git)
    if kind == "code" and tests_not_run(services) is None:
        baseline(services, git, started_at)
    return environment


def _commit(
    services: StepServices,
    git: GitWorkspace,
    files: Workspace,
    run: Run,
    role: Role,
    summary: str,
    *,
    marker: str,
) -> None:
    """Commit what the role's tools wrote or deleted, as the role; a resumed step finds its
    earlier commit by the trailer instead."""
    summary = clean_text(summary)  # no hidden characters in what the crew republishes
    subject = summary.strip().splitlines()[0][:72]
    message = f"{subject}\n\n{summary}"
    services.scanner.check_outgoing(message, where="commit message")
    sha = git.commit(
        message,
        paths=files.touched,
        author=identity(role),
        co_authors=requester_identity(run),
        trailers={COMMIT_TRAILER: marker},
    )
    if sha is None and git.find_commit_with_trailer(COMMIT_TRAILER, marker) is None:
        raise StepFailed(f"{role.name} finished without changing any file")


def _push(
    services: StepServices,
    git: GitWorkspace,
    branch: str,
    *,
    base: str,
    since: tuple[str, Protection],
) -> CloneSource:
    """Judge and scan what leaves, then push it unless the remote has it already (a resumed
    step). Whoever wrote what was committed since the step started (a tool, a command, a test
    run), it is judged by this role's rights; earlier steps' commits were judged by theirs."""
    started_at, protection = since
    try:
        check_push(git, started_at, protection)
    except PushRefused as refused:
        raise StepFailed(str(refused)) from None
    services.scanner.check_outgoing(git.diff(base, "HEAD"), where="pushed changes")
    source = services.forge.clone_source(push=True)  # the one step whose token may push
    if git.remote_branch_sha(branch, token=source.token) != git.head_sha():
        git.push(branch, allowed_prefix=services.crew.branch_prefix, token=source.token)
    return source


def _refuse_forks(services: StepServices, run: Run) -> None:
    """The crew never pushes to a fork, nor runs a fork's code to change it: the run ends
    with a comment saying so (a maintainer can push the changes, or open a branch here)."""
    if run.pr_number is None:
        return
    pull = services.forge.get_pull(run.pr_number)
    if pull.from_fork:
        where = pull.head_repo or "a fork that no longer exists"
        raise StepFailed(
            f"this pull request's branch lives in {where}, and the crew never pushes to a "
            "fork: it can review it (`/crew review`), but the changes are the author's to make"
        )


def _next_state(kind: str, feedback_key: str | None) -> RunState:
    """New code goes to review. Review feedback (the crew's or a human's) is checked by a
    re-review; test or vote feedback by the tests."""
    if kind == "code":
        return RunState.REVIEWING
    if kind_of(feedback_key or "") in ("review", "human"):
        return RunState.REVIEWING
    return RunState.TESTING
