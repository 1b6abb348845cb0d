"""The `ask` tool: an agent asks another role or the humans a question during its step.

A role answers within the step: one agent turn of that role (its persona, the run's results so
far, the sprint's state when there is one), on the run's ledger and budget under the step's
sub-key `<attempt>.ask-<n>`, so a resumed step replays it at no cost. The humans are asked on
the issue and in the run's thread, and the step ends until a writer answers
(`AwaitingAnswer`); the step then runs again from its start with the answer in its prompt, so
tool calls made before the question may be made again.

Each question is stored under `run:<id>:<attempt>:q<n>` (the n-th call of this attempt), so a
step done again after a crash finds its question, and its answer, instead of asking twice.
"""

from __future__ import annotations

from itertools import count

from bot.llm.loop import AgentTurn
from bot.llm.tools import Tool, Toolbox, ToolError, final_tool
from bot.roster.models import Role
from bot.runs.memory import context_for
from bot.runs.question_posts import role_answer
from bot.runs.questions import AwaitingAnswer, post_question
from bot.runs.repository import repository_context
from bot.runs.step_services import StepServices
from bot.runs.steps.persona import system_prompt
from bot.security.untrusted import fence_untrusted
from bot.store import questions as stored
from bot.store.models import Run
from bot.store.question_models import HUMANS, Question, QuestionStatus
from bot.store.runs import outputs
from bot.store.sprints import task_of_run

DESCRIPTION = (
    "Ask a teammate (a role key) or the humans (`humans`) one question, only when a genuine "
    "ambiguity blocks your work and neither the task, the repository nor the team's results "
    "settle it. A teammate answers at once, as this tool's result. A question to the humans "
    "pauses the whole run until someone answers (it may take a day): ask them only what "
    "nobody on the team can decide, and never to confirm what you can check yourself. At most "
    "{limit} questions per step; past that, decide yourself and say so in your answer."
)

SUBMIT_ANSWER: Tool = final_tool(
    "submit_answer",
    "Give your answer to your teammate's question.",
    {
        "type": "object",
        "properties": {"answer": {"type": "string", "minLength": 1, "maxLength": 8_000}},
        "required": ["answer"],
        "additionalProperties": False,
    },
)


def ask_tool(services: StepServices, run: Run, asker: Role, *, step: str, attempt: str) -> Tool:
    """The `ask` tool of one agent turn: `step` is the asking step's key (`code-1`), `attempt`
    the ledger key of this attempt of it (`code-1`, `code-1.answered-1` after an answer)."""
    crew = services.crew
    others = sorted(key for key in crew.roles if key != asker.key)
    schema = {
        "type": "object",
        "properties": {
            "to": {"type": "string", "enum": [*others, HUMANS]},
            "question": {"type": "string", "minLength": 1, "maxLength": 4_000},
        },
        "required": ["to", "question"],
        "additionalProperties": False,
    }
    numbers = count(1)

    def run_ask(arguments: dict[str, str]) -> str:
        number = next(numbers)
        key = f"run:{run.id}:{attempt}:q{number}"
        question = stored.question_by_key(services.engine, key=key)
        if question is None:
            asked = stored.questions_of_step(services.engine, run_id=run.id or 0, step=step)
            if len(asked) >= crew.questions.max_per_step:
                raise ToolError(
                    f"you have asked {len(asked)} questions in this step, the limit: decide "
                    "yourself and say in your answer what you assumed"
                )
            question = stored.record_question(
                services.engine,
                key=key,
                run_id=run.id or 0,
                step=step,
                resume_state=run.state,
                asker=asker.key,
                addressee=arguments["to"],
                text=arguments["question"],
                sprint_id=_sprint_of(services, run),
            )
        if question.status == QuestionStatus.ANSWERED:  # a replay: the answer stands
            return _as_result(services, question)
        if question.addressee == HUMANS:
            post_question(services, run, asker, question)
            raise AwaitingAnswer(question)
        answerer = crew.roles[question.addressee]
        ledger = f"{attempt}.ask-{number}"
        answer = answer_as_role(services, run, answerer, question, ledger=ledger)
        stored.answer_question(
            services.engine,
            question_id=question.id or 0,
            answer=answer,
            answered_by=answerer.key,
            answered_via="model",
        )
        return role_answer(answerer, answer)

    return Tool("ask", DESCRIPTION.format(limit=crew.questions.max_per_step), schema, run_ask)


def answer_as_role(
    services: StepServices, run: Run, answerer: Role, question: Question, *, ledger: str
) -> str:
    """One agent turn of `answerer` on the question, with the run's results so far."""
    asker = services.crew.roles.get(question.asker)
    extra = services.sprint_state(run) if services.sprint_state else ""
    turn = AgentTurn(
        model=services.model,
        ledger=services.ledger(run.id or 0, ledger, answerer),
        toolbox=Toolbox([SUBMIT_ANSWER]),
        model_name=answerer.model,
        system=system_prompt(services, run, answerer),
        context=context_for("answer", run, outputs(services.engine, run.id or 0), extra),
        prompt=services.prompts.render(
            "questions/answer",
            step=ledger,
            asker=asker.name if asker else question.asker,
            question=question.text,
        ),
        max_tokens=answerer.max_tokens,
        max_turns=services.crew.questions.answer_turns,
        budget=services.budget_check(run.id or 0, answerer),
        screen=services.screen,
        repository=repository_context(services),
    )
    result = turn.run()
    return str((result.answer or {}).get("answer") or result.text or "(no answer)")


def _sprint_of(services: StepServices, run: Run) -> int | None:
    """The sprint whose task this run is, if any (standups and the review read by sprint)."""
    task = task_of_run(services.engine, run.id or 0)
    return task.sprint_id if task is not None else None


def _as_result(services: StepServices, question: Question) -> str:
    answerer = services.crew.roles.get(question.answered_by)
    if answerer is not None:
        return role_answer(answerer, question.answer or "")
    source = f"{question.answered_by}'s answer"
    return f"{question.answered_by} answered:\n" + fence_untrusted(
        question.answer or "", source=source
    )
