"""`pull_request` opened, reopened, ready_for_review and synchronize: automatic reviews.

When the crew file enables them (`[review] unasked`, which a repository's `.repocrew.toml` may
turn off, never on), the reviewer reviews a person's pull request each time it opens or moves:
drafts, bots, listed authors and head branches are left alone. One review run holds a pull
request at a time (`bot.store.pull_reviews`): a push during a review is announced, and the
review reads the newest head when it ends. A head already reviewed is not reviewed again, so a
redelivered webhook does nothing. A repository's automatic reviews stop for the day when they
have spent `review.day_usd`, with a note on the pull request (once a day); `/crew review` by a
writer still goes through. The crew's own pull requests keep their own flow.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.roster.globs import GlobSet
from bot.roster.loader import ConfigError, load_crew
from bot.roster.sections import ReviewConfig
from bot.runs.review_summary import budget_marker, budget_note
from bot.services import Services
from bot.store import pull_reviews
from bot.store.model_calls import today
from bot.triggers.github_deliveries import router
from bot.triggers.starting import RunRequest, crew_for, gateway_of, is_bot, requester, start_run

log = logging.getLogger(__name__)
AUTO_REVIEW_ACTIONS = ("opened", "reopened", "ready_for_review", "synchronize")


def skip_reason(pull: dict[str, Any], review: ReviewConfig, *, branch_prefix: str) -> str | None:
    """Why automatic reviews leave this pull request alone, or None to review it."""
    author = pull.get("user") or {}
    branch = str((pull.get("head") or {}).get("ref") or "")
    if not review.unasked:
        return "automatic reviews are off"
    if pull.get("state", "open") != "open":
        return "closed"
    if branch.startswith(branch_prefix):
        return "the crew's own branch"
    if review.skip_drafts and pull.get("draft"):
        return "a draft"
    if review.skip_bots and is_bot(author):
        return "opened by a bot"
    login = str(author.get("login", ""))
    if login.lower() in {a.lower() for a in review.ignore_authors}:
        return f"author {login} is in review.ignore_authors"
    if review.ignore_branches and GlobSet(review.ignore_branches).matches(branch):
        return f"branch {branch} is in review.ignore_branches"
    return None


def _handle(payload: dict[str, Any], services: Services) -> None:
    pull = payload["pull_request"]
    repo, number = payload["repository"]["full_name"], pull["number"]
    if pull_reviews.crew_made(services.engine, repo=repo, pr=number):
        return  # the crew's own pull request: its run reviews it
    if not load_crew(services.settings.crew_file).review.unasked:
        return  # off for the operator: a repository may turn them off, never on
    gateway = gateway_of(services, payload)
    try:
        crew = crew_for(services.settings, gateway, configs=services.repo_configs, payload=payload)
    except ConfigError:
        return  # nobody asked: an invalid config is reported when someone does
    reason = skip_reason(pull, crew.review, branch_prefix=crew.branch_prefix)
    if reason is not None:
        log.info("no automatic review of %s#%s: %s", repo, number, reason)
        return
    head = pull["head"]["sha"]
    pull_reviews.announce_head(services.engine, repo=repo, pr=number, sha=head)
    if pull_reviews.state_of(services.engine, repo=repo, pr=number).reviewed_sha == head:
        return  # reviewed already (a redelivery, a reopened pull request)
    day = today()
    spent = pull_reviews.auto_review_spend(services.engine, repo=repo, day=day)
    if spent >= crew.review.day_usd:
        if pull_reviews.note_budget_once(services.engine, repo=repo, pr=number, day=day):
            lead = crew.roles[crew.lead].github.header
            body = budget_note(lead, spent=spent, budget=crew.review.day_usd, day=day)
            gateway.create_comment(number, f"{body}\n\n{budget_marker(day)}", role="lead")
        return
    if not pull_reviews.claim(services.engine, repo=repo, pr=number):
        return  # a review is running; it reviews this head when it ends
    request = RunRequest(
        repo=repo,
        installation_id=payload["installation"]["id"],
        number=number,
        title=pull.get("title", ""),
        body=pull.get("body") or "",
        requested_by=requester(pull.get("user") or payload["sender"]),
        clone_url=payload["repository"].get("clone_url", ""),
        is_pull=True,
    )
    if start_run(services, gateway, request, mode="auto", crew=crew) is None:
        pull_reviews.let_go(services.engine, repo=repo, pr=number)


for _action in AUTO_REVIEW_ACTIONS:
    router.register("pull_request", action=_action)(_handle)
