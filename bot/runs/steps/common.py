"""What every step shares: its result type, its key, the agent call and the workspace clone."""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.environments.build import Environment
from bot.environments.detect import detect_environment
from bot.environments.plan import EnvironmentPlan
from bot.environments.selection import TestSelection
from bot.environments.test_run import TestRun
from bot.environments.test_run import run_tests as run_tests_in
from bot.llm.loop import AgentResult, AgentStopped, AgentTurn
from bot.llm.tools import Tool, Toolbox
from bot.prompts import PromptLibrary
from bot.results import Outcome, TestResults
from bot.roster.globs import GlobSet
from bot.roster.models import Crew, Role
from bot.roster.protected import SECRET_FILES, Protection, protection
from bot.runs.memory import kind_of
from bot.runs.repository import remember_repository, repository_context
from bot.runs.states import ASKING, RunState
from bot.runs.step_services import StepServices
from bot.runs.steps.ask_tool import ask_tool
from bot.runs.steps.persona import system_prompt
from bot.sandbox import SandboxLimits, sandbox_status
from bot.security.file_secrets import secret_settings, workspace_secrets
from bot.security.untrusted import fence_untrusted
from bot.store.models import Run
from bot.store.question_models import HUMANS, Question, QuestionStatus
from bot.store.questions import questions_of_step
from bot.workspace.files import Workspace
from bot.workspace.git import GitIdentity, GitWorkspace
from bot.workspace.history import code_date
from bot.workspace.pull_refs import checkout_pull

COMMIT_TRAILER = "Repocrew-Step"


class StepFailed(AgentStopped):
    """The step cannot finish; the run fails with this reason."""


class BranchDeleted(AgentStopped):
    """The run's branch is gone from the remote: a human deleted it, so the crew stops."""


@dataclass
class StepResult:
    next: RunState
    key: str
    role: Role
    output: dict[str, Any] | None
    fields: dict[str, Any] = field(default_factory=dict)
    reason: str = ""


def step_key(kind: str, outputs: Mapping[str, Any]) -> str:
    """`review-2` for the second review: numbered by the results already saved."""
    return f"{kind}-{sum(1 for key in outputs if kind_of(key) == kind) + 1}"


def ask(
    services: StepServices,
    run: Run,
    role: Role,
    key: str,
    *,
    kind: str,
    answer: Tool,
    context: str,
    tools: Sequence[Tool] = (),
    server_tools: list[dict[str, Any]] | None = None,
    **prompt_variables: Any,
) -> dict[str, Any]:
    """Run one agent turn for `role` and return its validated structured answer.

    A role granted `ask` gets the tool; once the humans answered one of this step's questions,
    the step runs again from its start with every answer so far in its prompt, on a ledger key
    of its own (`code-1.answered-1`), so the first attempt's calls stay on the ledger.
    """
    prompts = services.prompts
    asked = questions_of_step(services.engine, run_id=run.id or 0, step=key)
    humans = sum(1 for q in asked if q.addressee == HUMANS and q.status == QuestionStatus.ANSWERED)
    attempt = f"{key}.answered-{humans}" if humans else key
    # The answers of earlier attempts only: this attempt's own are in its conversation, and a
    # replay of it must be asked exactly as it first was.
    mine = f"run:{run.id}:{attempt}:"
    answered = [
        q for q in asked if q.status == QuestionStatus.ANSWERED and not q.key.startswith(mine)
    ]
    if "ask" in role.tools and run.state in ASKING:  # not in a review thread's answer
        tools = [*tools, ask_tool(services, run, role, step=key, attempt=attempt)]
    prompt = prompts.render(f"steps/{kind}", step=key, **prompt_variables)
    if humans:
        prompt += "\n" + prompts.render("questions/answered", answered=answered_views(answered))
    turn = AgentTurn(
        model=services.model,
        ledger=services.ledger(run.id or 0, attempt, role),
        toolbox=Toolbox([*tools, answer]),
        model_name=role.model,
        system=system_prompt(services, run, role),
        context=context,
        prompt=prompt,
        max_tokens=role.max_tokens,
        max_turns=role.max_turns,
        budget=services.budget_check(run.id or 0, role),
        screen=services.screen,
        server_tools=server_tools or [],
        repository=repository_context(services),
    )
    result: AgentResult = turn.run()
    services.files_read.setdefault(key.split(".", 1)[0], []).extend(files_read(result))
    if result.answer is None:
        raise StepFailed(f"{role.name} gave no answer")
    return result.answer


def answered_views(answered: Sequence[Question]) -> list[dict[str, str]]:
    """Each answered question for the prompt: who was asked, the question, the answer (a
    human's fenced as untrusted: it is a person's text, not the crew's)."""
    views = []
    for question in answered:
        text = question.answer or ""
        if question.addressee == HUMANS:
            text = fence_untrusted(text, source=f"answer by {question.answered_by}")
        views.append({"to": question.addressee, "question": question.text, "answer": text})
    return views


def files_read(result: AgentResult) -> list[str]:
    """What the agent read with `read_file` (`path`, or `path:first-last` for a range)."""
    read = []
    for call in result.tool_calls:
        arguments = call.get("input") or {}
        if call["name"] != "read_file" or call["error"] or not isinstance(arguments, dict):
            continue
        first, last = arguments.get("start_line"), arguments.get("end_line")
        lines = f":{first or 1}-{last or ''}" if first or last else ""
        read.append(f"{arguments.get('path', '')}{lines}")
    return read


def clone(
    services: StepServices, run: Run, role: Role, branch: str = "", *, pull: int | None = None
) -> tuple[GitWorkspace, Workspace]:
    """A fresh clone for this step (a resumed step never sees a crashed attempt's files),
    with a token that may only read.

    With `branch`, the clone is on that branch: the remote's if it exists, else a new one.
    With `pull`, it is on that pull request's head (`refs/pull/N/head`, a fork's too).
    """
    source = services.forge.clone_source()
    root = services.workspace_dir(run.id or 0)
    shutil.rmtree(root, ignore_errors=True)
    root.parent.mkdir(parents=True, exist_ok=True)
    git = GitWorkspace.clone(source.url, root, token=source.token, branch=source.default_branch)
    # The values of the workspace's secret files and secret-looking settings, in every
    # encoding, stop anything that would carry them out (tests may print them).
    services.scanner.add_known(*workspace_secrets(root, GlobSet(SECRET_FILES).matches))
    services.scanner.add_known(*secret_settings(services.crew.tests.env))
    _load_prompt_overrides(services, root)
    remember_repository(services, root)
    if pull:
        checkout_pull(git, pull, token=source.token)
    elif branch and not git.checkout_remote_branch(branch):
        if branch == run.branch:  # pushed by an earlier step (or the PR's own): not recreated
            raise BranchDeleted(
                f"the branch {branch} was deleted, so the crew stopped "
                "(start a new run to try again)"
            )
        git.checkout_new_branch(branch)
    return git, Workspace(root, protection=protection_of(services.crew, role))


def protection_of(crew: Crew, role: Role) -> Protection:
    """What `role` may not change or read: the built-in set plus the crew's additions."""
    return protection(
        crew.protected_paths, may_edit=role.may_edit, readable_secrets=crew.readable_secrets
    )


MAX_PROMPT_BYTES = 50_000


def _load_prompt_overrides(services: StepServices, root: Path) -> None:
    """The repository's own prompt templates (`[prompts]` in `.repocrew.toml`), read once per
    run from the default branch, never from the crew's branch, so no agent can rewrite them."""
    overrides = services.crew.prompt_overrides
    if not overrides or services.prompts_from_repo:
        return
    texts = {}
    for name, relative in overrides.items():
        path = root / relative
        if path.is_file() and not path.is_symlink() and root.resolve() in path.resolve().parents:
            texts[name] = path.read_text(encoding="utf-8", errors="replace")[:MAX_PROMPT_BYTES]
    services.prompts = PromptLibrary(texts)
    services.prompts_from_repo = True


def sandbox_limits(services: StepServices) -> SandboxLimits:
    tests = services.crew.tests
    limits = {
        "cpu_seconds": tests.cpu_seconds,
        "memory_bytes": tests.memory_mb * 1024 * 1024,
        "wall_seconds": tests.wall_seconds,
    }
    return SandboxLimits(**{**limits, **services.sandbox_overrides})


def test_command(services: StepServices, git: GitWorkspace) -> tuple[str, ...]:
    """The tests' command: `[tests] command` when the roster sets one, else detected from the
    checkout (pytest for Python and for a repository with nothing to set up, npm test for Node)."""
    return environment_plan(services, git).test_command


def environment_plan(services: StepServices, git: GitWorkspace) -> EnvironmentPlan:
    crew = services.crew
    plan = detect_environment(
        git.root, tests=crew.tests, environment=crew.environment, code_date=code_date(git.root)
    )
    return replace(plan, readable_secrets=crew.readable_secrets)


def environment_of(services: StepServices, git: GitWorkspace) -> Environment:
    """The checkout's environment: from the cache, or set up now (SetupFailed if it cannot)."""
    return services.environments_or_default().prepare(git.root, environment_plan(services, git))


def run_tests(
    services: StepServices,
    git: GitWorkspace,
    environment: Environment | None = None,
    selection: TestSelection = TestSelection(),  # noqa: B008 - frozen
) -> TestRun:
    """The repository's tests (or a selection) in its environment, in the sandbox, read."""
    environment = environment or environment_of(services, git)
    return run_tests_in(
        git.root,
        environment,
        limits=sandbox_limits(services),
        env=services.crew.tests.env,
        allow_unsandboxed=services.crew.tests.allow_unsandboxed,
        selection=selection,
        readable_secrets=services.crew.readable_secrets,
        bwrap=services.bwrap,
    )


def tests_not_run(services: StepServices) -> str | None:
    """Why the crew goes on without running the tests (no sandbox, and `[tests]
    skip_without_sandbox`, and not `allow_unsandboxed`); None when they run."""
    tests = services.crew.tests
    if not tests.skip_without_sandbox or tests.allow_unsandboxed:
        return None
    status = sandbox_status(services.bwrap)
    return None if status.available else status.reason


def identity(role: Role) -> GitIdentity:
    return GitIdentity(role.github.author_name, role.github.author_email)


def requester_identity(run: Run) -> list[GitIdentity]:
    """The human who asked, for a Co-authored-by trailer, when we know an address for them."""
    who = run.requested_by.strip()
    if "<" in who and who.endswith(">"):
        name, email = who[:-1].split("<", 1)
        return [GitIdentity(name.strip(), email.strip())]
    return []


COUNTED = {
    "passed": Outcome.PASSED,
    "failed": Outcome.FAILED,
    "errors": Outcome.ERROR,
    "skipped": Outcome.SKIPPED,
    "xfailed": Outcome.XFAILED,
    "xpassed": Outcome.XPASSED,
}


def report_counts(results: TestResults) -> dict[str, int]:
    return {kind: results.count(outcome) for kind, outcome in COUNTED.items()}


def report_line(results: TestResults) -> str:
    """The run's counts in one line ("2 failed, 40 passed, 3 subtests passed")."""
    return results.summary
