"""`pull_request_review_comment.created`: a human's reply in one of the crew's review threads.

The reviewer answers in the thread. On the crew's own pull request, a writer's reply that asks
for a change (`thread_requests`) sends the coder to make it, through the same path as a
changes-requested review, and the fix step names its commit in the thread. Readers get an
answer and never work; bots (and the crew itself) get nothing, so two bots cannot talk forever.
A reply is answered once: the answer is keyed on the reply's comment id.
"""

from __future__ import annotations

from typing import Any

from bot.runs.progress import active_run
from bot.runs.steps.thread_answer import answer_in_thread, thread_key
from bot.runs.thread_replies import (
    NOT_THE_CREWS_NOTE,
    Thread,
    crew_thread,
    finding_for,
    fix_busy_body,
    fix_queued_body,
    not_allowed_note,
    reply_once,
    review_step,
    thread_feedback,
)
from bot.services import Services
from bot.store import run_queries
from bot.store.runs import get_run, outputs
from bot.triggers.github_deliveries import router
from bot.triggers.starting import gateway_of, is_bot, may_steer, request_changes
from bot.triggers.thread_requests import asks_for_change


@router.register("pull_request_review_comment", action="created")
def thread_reply_created(payload: dict[str, Any], services: Services) -> None:
    comment = payload.get("comment") or {}
    sender = payload.get("sender")
    if comment.get("in_reply_to_id") is None or is_bot(sender) or is_bot(comment.get("user")):
        return
    repo, number = payload["repository"]["full_name"], payload["pull_request"]["number"]
    newest = run_queries.active_run(services.engine, repo, ended=(), pr=number)
    if newest is None:
        return  # the crew never worked on this pull request: no thread of its
    steps = services.step_services(newest.id or 0)
    # Whose thread it is, from the forge (the authors), never from the payload's text.
    thread = crew_thread(steps.forge, number, int(comment["id"]))  # type: ignore[arg-type]
    if thread is None:
        return
    opened = review_step(steps.forge.list_reviews(number), thread, steps.forge.is_own)
    run_id, step = opened if opened else (newest.id or 0, "")
    if run_id != newest.id:
        steps = services.step_services(run_id)
    run, done = get_run(services.engine, run_id), outputs(services.engine, run_id)
    writer = may_steer(gateway_of(services, payload), sender)  # type: ignore[arg-type]
    wants = asks_for_change(thread.reply.body)
    crew_run = active_run(services.engine, repo, pr=number)
    if crew_run is not None and crew_run.mode != "full":
        crew_run = None  # a review of someone's pull request (asked or automatic): no code
    login = thread.reply.author
    if wants and writer and crew_run is not None:
        feedback = thread_feedback(thread, login, finding_for(done, step, thread.root))
        _send_coder(services, steps, thread, crew_run, feedback, run_id=run_id)
        return
    note = ""
    if wants:
        note = not_allowed_note(login) if not writer else NOT_THE_CREWS_NOTE
    answer_in_thread(
        steps,
        run,
        thread,
        done,
        review_step=step,
        may_change=writer and crew_run is not None,
        note=note,
    )


def _send_coder(
    services: Services,
    steps: Any,
    thread: Thread,
    crew_run: Any,
    feedback: dict[str, Any],
    *,
    run_id: int,
) -> None:
    """The coder is sent (once per reply) and the thread told so, or told why not now."""
    key = f"human-thread-{thread.reply.id}"
    sent = request_changes(services.engine, crew_run, key=key, feedback=feedback)
    sent = sent or key in outputs(services.engine, crew_run.id)  # a redelivery: sent before
    login = feedback["reviewer"]
    body = fix_queued_body(login, crew_run.id) if sent else fix_busy_body(login, crew_run.id)
    reply_once(
        steps.forge,
        steps.scanner,
        thread.number,
        thread.root.id,
        run_id=run_id,
        step=thread_key(thread),
        body=body,
        role=steps.crew.role_for("review").key,
    )
