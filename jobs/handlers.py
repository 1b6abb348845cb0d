"""The job table: which function runs each kind of job, given the job and the services."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta

from bot.roster.loader import load_crew
from bot.runs.driver import RunBusy, drive
from bot.runs.lifecycle import CREW_RUN_JOB, requeue_orphaned_runs
from bot.runs.progress import fail_run
from bot.runs.questions import REASK_JOB, reask_due
from bot.runs.steps.start import RunsPaused
from bot.runs.workspaces import sweep_ended, workspaces_root
from bot.services import Services
from bot.slack.outbox import AUTH_ERRORS, SLACK_OUTBOX_JOB, drain_job
from bot.sprints.control import SPRINT_CHECK_JOB, check_sprints, run_moved
from bot.sprints.planning import SPRINT_PLAN_JOB, abandon_plan, plan_sprint
from bot.sprints.review import SPRINT_REVIEW_JOB, review_sprint
from bot.sprints.schedule import SPRINT_SCHEDULE_JOB, schedule_sprint
from bot.standups.run import STANDUP_CHECK_JOB, check_standups
from bot.store import queue
from bot.store import slack_outbox as slack_store
from bot.store.deliveries import StoredDelivery, get_delivery
from bot.store.queue import ClaimedJob
from bot.triggers.catalog import GITHUB_EVENT_JOB, SLACK_REQUEST_JOB
from bot.triggers.missed_merges import SPRINT_RECONCILE_JOB, reconcile_merges
from bot.triggers.registry import handle_github_delivery, handle_slack_delivery
from bot.triggers.slack_link import SLACK_LINK_JOB, poll_link

log = logging.getLogger(__name__)

JobHandler = Callable[[ClaimedJob, Services], None]

HOUSEKEEPING_JOB = "housekeeping"
DONE_JOB_RETENTION = timedelta(days=7)
PAUSED = timedelta(minutes=10)  # how often a run held by a spend-limit pause looks again
BUSY = timedelta(seconds=2)  # how soon a run another job drives is looked at again


def _github_event(job: ClaimedJob, services: Services) -> None:
    handle_github_delivery(_delivery_of(job, services), services)


def _slack_request(job: ClaimedJob, services: Services) -> None:
    handle_slack_delivery(_delivery_of(job, services), services)


def _delivery_of(job: ClaimedJob, services: Services) -> StoredDelivery:
    """The job's delivery: read with its claim, or from the store (a job built by hand)."""
    if job.delivery is not None:
        return job.delivery
    if job.delivery_id is None:
        raise ValueError(f"a {job.kind} job needs its delivery")
    return get_delivery(services.engine, job.delivery_id)


def _housekeeping(_job: ClaimedJob, services: Services) -> None:
    """Drop finished jobs after a week (deliveries stay: they are the audit log), give runs
    left without a job a new one, remove ended runs' workspaces, and retry Slack posts refused
    for the bot's token."""
    engine = services.engine
    removed = queue.delete_finished(engine, before=services.clock() - DONE_JOB_RETENTION)
    log.info("housekeeping removed %d finished jobs", removed)
    orphans = requeue_orphaned_runs(engine)
    if orphans:
        log.warning("housekeeping queued runs left without a job: %s", orphans)
    swept = sweep_ended(engine, workspaces_root(services.settings.work_dir))
    if swept:
        log.info("housekeeping removed the workspaces of ended runs %s", swept)
    if slack_store.failed_with(engine, errors=AUTH_ERRORS):
        queue.enqueue(engine, kind=SLACK_OUTBOX_JOB)  # the drain re-queues them once auth works


def _crew_run(job: ClaimedJob, services: Services) -> None:
    """Drive a team run until it waits for a human or ends (resumes where it stopped)."""
    run_id = int(job.args["run_id"])
    try:
        state = drive(services.step_services(run_id), run_id)
    except (RunsPaused, RunBusy) as held:
        # Not a failure: look again later (the queue's backoff would have killed the job
        # within a minute, stranding the run once an operator clears the pause). A run another
        # job drives is looked at again shortly: that job may be just letting go of it.
        log.warning("run %s waits: %s", run_id, held)
        later = services.clock() + (PAUSED if isinstance(held, RunsPaused) else BUSY)
        queue.enqueue(
            services.engine,
            kind=CREW_RUN_JOB,
            args={"run_id": run_id},
            run_after=later,
            max_attempts=job.max_attempts,
        )
        return
    except Exception as error:
        if job.attempts >= job.max_attempts:  # the queue gives up: say so on the run
            reason = f"failed after {job.attempts} attempts: {error}"
            fail_run(services.engine, run_id, reason=reason)
            run_moved(services.engine, run_id)
        raise
    log.info("run %s is %s", run_id, state)
    run_moved(services.engine, run_id)  # a sprint's task: the tasks after it may start


def _slack_outbox(_job: ClaimedJob, services: Services) -> None:
    """Send what the crew queued for Slack; come back when a rate limit says to."""
    report = drain_job(services.engine, services.settings, poster=services.slack_poster())
    if report.next_due is not None and services.settings.slack_bot_token is not None:
        queue.enqueue(services.engine, kind=SLACK_OUTBOX_JOB, run_after=report.next_due)


def _standup_check(_job: ClaimedJob, services: Services) -> None:
    """Hold the standups that are due (once per channel and day, whichever worker runs it).

    Holding a standup queues its posts and a `slack.outbox` job before marking it posted, so
    a crash between the two still gets the posts sent.
    """
    crew = load_crew(services.settings.crew_file)
    for result in check_standups(services.engine, crew, now=services.clock()):
        log.info("standup %s %s: %s", result.channel, result.day, result.outcome)


def _questions_reask(_job: ClaimedJob, services: Services) -> None:
    """Remind the humans of questions still open from an earlier working day (once a day)."""
    reminded = reask_due(services.engine, services.step_services, now=services.clock())
    if reminded:
        log.info("questions asked again: %s", reminded)


def _sprint_plan(job: ClaimedJob, services: Services) -> None:
    """The lead plans a sprint and posts the plan for approval (resumes where it stopped)."""
    sprint_id = int(job.args["sprint_id"])
    try:
        plan_sprint(services, sprint_id)
    except Exception as error:
        if job.attempts >= job.max_attempts:  # the queue gives up: so does the sprint, saying why
            abandon_plan(
                services, sprint_id, reason=f"failed after {job.attempts} attempts: {error}"
            )
        raise


def _sprint_schedule(job: ClaimedJob, services: Services) -> None:
    """One scheduling pass: issues, blocks, and the runs that may start now."""
    schedule_sprint(services, int(job.args["sprint_id"]))


def _sprint_check(_job: ClaimedJob, services: Services) -> None:
    check_sprints(services.engine, now=services.clock())


def _sprint_reconcile(_job: ClaimedJob, services: Services) -> None:
    """Ask GitHub about the pull requests running sprints wait on (a merge's webhook lost)."""
    merged = reconcile_merges(services)
    if merged:
        log.info("sprint pull requests found merged: %s", merged)


def _sprint_review(job: ClaimedJob, services: Services) -> None:
    """Post the sprint's review and retrospective, once, and close it."""
    review_sprint(services, int(job.args["sprint_id"]), job_id=job.id)


JOB_HANDLERS: Mapping[str, JobHandler] = {
    SLACK_OUTBOX_JOB: _slack_outbox,
    CREW_RUN_JOB: _crew_run,
    GITHUB_EVENT_JOB: _github_event,
    SLACK_REQUEST_JOB: _slack_request,
    HOUSEKEEPING_JOB: _housekeeping,
    STANDUP_CHECK_JOB: _standup_check,
    SLACK_LINK_JOB: poll_link,
    REASK_JOB: _questions_reask,
    SPRINT_PLAN_JOB: _sprint_plan,
    SPRINT_SCHEDULE_JOB: _sprint_schedule,
    SPRINT_CHECK_JOB: _sprint_check,
    SPRINT_REVIEW_JOB: _sprint_review,
    SPRINT_RECONCILE_JOB: _sprint_reconcile,
}
