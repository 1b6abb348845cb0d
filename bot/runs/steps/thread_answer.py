"""The reviewer answers a human's reply in one of its review threads, through the same agent
loop, persona, ledger and budget as a step of the run that opened the thread.

The answer's key is `thread-<reply id>`: a redelivered reply finds the crew's answer by its
marker and asks nothing, and a worker that died after the model call replays it from the ledger.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.llm.loop import AgentStopped
from bot.runs.step_services import StepServices
from bot.runs.steps.answers import SUBMIT_THREAD_REPLY
from bot.runs.steps.common import ask
from bot.runs.thread_replies import (
    Thread,
    finding_for,
    replied,
    reply_once,
    thread_context,
)
from bot.store.models import Run

log = logging.getLogger(__name__)


def thread_key(thread: Thread) -> str:
    return f"thread-{thread.reply.id}"


def answer_in_thread(
    services: StepServices,
    run: Run,
    thread: Thread,
    outputs: dict[str, Any],
    *,
    review_step: str = "",
    may_change: bool = False,
    note: str = "",
) -> bool:
    """Answer the thread's latest reply once; False when it was answered already or the model
    gave no answer (logged: a thread without an answer is better than a run stopped for it).

    `may_change`: the person may ask the crew for a change (a writer, on the crew's PR).
    `note`: a fixed line added under the answer (e.g. why nothing was started).
    """
    role = services.crew.role_for("review")
    key = thread_key(thread)
    run_id = run.id or 0
    if replied(services.forge, thread, run_id=run_id, step=key):  # type: ignore[arg-type]
        return False
    read = services.forge.read_text_at  # type: ignore[attr-defined]
    file_text = read(thread.root.path, thread.root.commit_sha) if thread.root.commit_sha else None
    context = thread_context(
        thread, finding_for(outputs, review_step, thread.root), file_text, services.forge.is_own
    )
    try:
        answer = ask(
            services,
            run,
            role,
            key,
            kind="thread",
            answer=SUBMIT_THREAD_REPLY,
            context=context,
            may_change=may_change,
        )
    except AgentStopped as stopped:
        log.warning("run %s: no answer in review thread %s: %s", run_id, key, stopped.reason)
        return False
    body = answer["reply"] + (f"\n\n{note}" if note else "")
    posted = reply_once(
        services.forge,  # type: ignore[arg-type]
        services.scanner,
        thread.number,
        thread.root.id,
        run_id=run_id,
        step=key,
        body=body,
        role=role.key,
    )
    return posted is not None
