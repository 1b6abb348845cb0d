"""`/crew link`: a Slack user proves their GitHub account with GitHub's device flow.

The command asks GitHub for a device code and shows the person the user code and where to
enter it; a `slack.link` job then polls GitHub, at the interval GitHub sets (longer after a
`slow_down`), until the person approves, cancels or the code expires. Only an approval links,
and what is linked is the account GitHub names (`GET /user` with the token the approval
gave): its id and login, never the login typed. The token is dropped at once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.ports.identity import OAuthFailed
from bot.services import Services
from bot.slack.blocks import escape
from bot.store.queue import ClaimedJob, enqueue
from bot.store.slack_links import link_proven
from bot.triggers.slack_asker import Asker

log = logging.getLogger(__name__)

SLACK_LINK_JOB = "slack.link"
NO_OAUTH = (
    "Linking proves your GitHub account through GitHub's OAuth App, and none is set up here: "
    "the operator sets REPOCREW_GITHUB_OAUTH_CLIENT_ID (see `repocrew doctor`)."
)
ENDED = {
    "expired": "The code expired before GitHub saw it approved. `/crew link` gives a new one.",
    "denied": "You cancelled on GitHub, so nothing was linked.",
}


def start_link(asker: Asker, wanted: str | None) -> None:
    """Ask GitHub for a device code; tell the person where to enter it; poll in a job."""
    identity = asker.services.identity()
    if identity is None:
        asker.tell(NO_OAUTH)
        return
    try:
        code = identity.start_device()
    except OAuthFailed as error:
        asker.tell(f"GitHub did not start the sign-in ({escape(str(error))}); try again later.")
        return
    now = asker.services.clock()
    args = {
        "team": asker.team,
        "user": asker.user,
        "channel": asker.channel,
        "device_code": code.device_code,
        "interval": code.interval,
        "expires_at": (now + timedelta(seconds=code.expires_in)).isoformat(),
        "wanted": wanted,
    }
    _poll_later(asker, args, now)
    minutes = max(code.expires_in // 60, 1)
    asker.tell(
        f"To prove who you are on GitHub, open <{code.verification_uri}> and enter the code "
        f"`{escape(code.user_code)}` within {minutes} minutes. I link you once GitHub confirms "
        "it; nobody else can link your Slack account to a GitHub login."
    )


def poll_link(job: ClaimedJob, services: Services) -> None:
    """One poll of the device flow; the next one is queued while the person has not decided."""
    args = job.args
    asker = Asker(services, args["team"], args["user"], args["channel"], key=f"link-{job.id}")
    identity = services.identity()
    now = services.clock()
    if identity is None:
        asker.tell(NO_OAUTH)
        return
    if now >= datetime.fromisoformat(args["expires_at"]):
        asker.tell(ENDED["expired"])
        return
    try:
        poll = identity.poll_device(args["device_code"])
    except OAuthFailed as error:  # GitHub unreachable for a moment: ask again later
        log.warning("device flow poll for %s failed: %s", asker.user, error)
        _poll_later(asker, args, now)
        return
    if poll.outcome in ("pending", "slow_down"):
        _poll_later(asker, {**args, "interval": poll.interval or args["interval"]}, now)
    elif poll.outcome == "granted" and poll.user is not None:
        wanted, proven = args.get("wanted"), poll.user
        if wanted and wanted.lower() != proven.login.lower():
            asker.tell(
                f"GitHub says you are @{escape(proven.login)}, not @{escape(wanted)}, so nothing "
                f"was linked. `/crew link` (without a login) links @{escape(proven.login)}."
            )
            return
        moved = link_proven(
            services.engine,
            team=asker.team,
            user=asker.user,
            github_user_id=proven.id,
            login=proven.login,
        )
        note = f" (it was linked to <@{moved}> before)" if moved else ""
        asker.tell(f"Linked: GitHub confirmed you are @{escape(proven.login)}{note}.")
    else:
        asker.tell(ENDED.get(poll.outcome, f"GitHub refused the link: {escape(poll.detail)}."))


def _poll_later(asker: Asker, args: dict, now: datetime) -> None:
    later = now + timedelta(seconds=int(args["interval"]))
    enqueue(asker.engine, kind=SLACK_LINK_JOB, args=args, run_after=later)
