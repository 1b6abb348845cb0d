"""Who is asking in Slack, whether they may steer a repository's crew, and how to answer them.

Shared by the `/crew` command and the buttons. A Slack user is known to GitHub only through
`/crew link`, which GitHub's device flow proves (the login linked is the one GitHub names);
steering a repository's crew takes write access there, the same rule as for `/crew` comments
on GitHub. The worker answers privately (chat.postEphemeral: refusals, queries) or through
the outbox (what was done, in the channel or the run's thread).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from bot.ports.forge import IssueGateway
from bot.ports.identity import OAuthFailed
from bot.ports.slack import PostError
from bot.roster.loader import load_crew
from bot.roster.models import Crew
from bot.services import Services
from bot.settings import Settings
from bot.slack.blocks import escape
from bot.slack.outbox import SLACK_OUTBOX_JOB
from bot.store.engine import Engine
from bot.store.models import Run
from bot.store.queue import enqueue
from bot.store.runs import get_run
from bot.store.slack_links import linked_account, linked_login
from bot.store.slack_outbox import enqueue_message, thread_channel
from bot.triggers.commands import WRITE_PERMISSIONS

log = logging.getLogger(__name__)

UNLINKED = (
    "I don't know who you are on GitHub yet. Link your account once with `/crew link` "
    "(GitHub asks you to confirm it), then try again."
)


@dataclass
class Asker:
    """Who asked, in which channel, and how to answer them."""

    services: Services
    team: str
    user: str
    channel: str
    key: str  # names this request, so a retried job does not post twice
    channel_name: str = ""  # slash commands carry it ("crew"); interactions need not
    current_login: str | None = None  # the linked account's login now, once GitHub said it

    @classmethod
    def of(cls, body: dict, services: Services, *, channel: str = "") -> Asker:
        """From a slash command (flat fields) or an interaction (nested user, team, channel)."""
        user, team, where = (_dict(body.get(name)) for name in ("user", "team", "channel"))
        key = body.get("trigger_id") or hashlib.sha256(json.dumps(body).encode()).hexdigest()
        return cls(
            services=services,
            team=str(body.get("team_id") or team.get("id") or user.get("team_id") or ""),
            user=str(body.get("user_id") or user.get("id") or ""),
            channel=channel or str(body.get("channel_id") or where.get("id") or ""),
            key=str(key)[:64],
            channel_name=str(body.get("channel_name") or where.get("name") or ""),
        )

    @property
    def engine(self) -> Engine:
        return self.services.engine

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def login(self) -> str | None:
        """The linked account's login: as GitHub named it now, once a permission check asked
        (`steering_gateway`), else as it was when the link was proven."""
        return self.current_login or linked_login(self.engine, team=self.team, user=self.user)

    def tell(self, text: str) -> None:
        """Only the asker sees it; a failure is logged, not retried (the ack told them already)."""
        try:
            self.services.slack_replies().ephemeral(self.channel, self.user, text, None)
        except (PostError, ValueError) as error:
            log.warning("could not answer %s in %s: %s", self.user, self.channel, error)

    def say(
        self,
        text: str,
        *,
        blocks: list[dict] | None = None,
        crew: Crew | None = None,
        thread: str | None = None,
    ) -> None:
        """Everyone sees it, posted by the lead: in the asker's channel, or in a run's thread
        (`thread`) in the channel that thread lives in."""
        crew = crew or load_crew(self.settings.crew_file)
        # A run's thread lives where it was opened (its owner's channel, `bot.roster.routing`).
        where = thread_channel(self.engine, thread_key=thread) if thread else None
        where = where or (crew.channel if thread else None)
        channel = where or self.channel
        enqueue_message(
            self.engine,
            channel=channel,
            key=f"slack:{self.key}:{thread or 'reply'}",
            text=text,
            blocks=blocks,
            role=crew.lead,
            thread_key=thread if where else None,
        )
        enqueue(self.engine, kind=SLACK_OUTBOX_JOB, args={"channel": channel})


def repo_gateway(asker: Asker, repo: str) -> tuple[IssueGateway, int] | None:
    """`repo`'s gateway and installation for a linked asker who may steer its crew now; else
    they are told why (not linked, the App not installed there, or no write access)."""
    if asker.login is None:
        asker.tell(UNLINKED)
        return None
    installation = asker.services.installation_of(repo)
    if installation is None:
        asker.tell(f"The crew's GitHub App is not installed on `{repo}` (or it does not exist).")
        return None
    gateway = steering_gateway(asker, installation, repo)
    return None if gateway is None else (gateway, installation)


def steering_gateway(asker: Asker, installation_id: int, repo: str) -> IssueGateway | None:
    """The repository's gateway when the asker may steer its crew; else they are told why.

    The permission asked is that of the account the link proved, by its id: a login renamed
    since (and perhaps taken by someone else) is looked up again, never trusted as stored."""
    account = linked_account(asker.engine, team=asker.team, user=asker.user)
    if account is None:
        asker.tell(UNLINKED)
        return None
    login: str | None = account.github_login
    identity = asker.services.identity()
    if identity is not None:
        try:
            login = identity.current_login(account.github_user_id, installation_id)
        except OAuthFailed as error:
            asker.tell(f"GitHub did not say who your linked account is now ({escape(str(error))}).")
            return None
    if login is None:
        asker.tell(f"GitHub no longer knows your linked account. {UNLINKED}")
        return None
    asker.current_login = login
    gateway = asker.services.repo_gateway(installation_id, repo)
    permission = gateway.permission_of(login)
    if permission not in WRITE_PERMISSIONS:
        asker.tell(
            f"Only people with write access to `{repo}` can start or steer its crew; "
            f"@{login} has `{permission}` there, so nothing was done."
        )
        return None
    return gateway


def run_for(asker: Asker, word: str) -> Run | None:
    """The run a command or button names, if it is a GitHub run; else the asker is told."""
    try:
        run = get_run(asker.engine, int(word.removeprefix("#")))
    except (ValueError, LookupError):
        asker.tell(f"There is no run `{escape(word)}`. `/crew status` lists the active ones.")
        return None
    if run.forge != "github" or run.installation_id is None:
        asker.tell(f"Run {run.id} is a local run; steer it where it runs.")
        return None
    return run


def steered_run(asker: Asker, word: str) -> tuple[Run, IssueGateway] | None:
    run = run_for(asker, word)
    if run is None:
        return None
    gateway = steering_gateway(asker, run.installation_id or 0, run.repo)
    return (run, gateway) if gateway is not None else None


def crew_of(run: Run) -> Crew:
    """The crew the run started with (its thread is in that crew's channel)."""
    return Crew.model_validate(json.loads(run.config))


def thread(run: Run) -> str:
    return f"run:{run.id}"  # the thread key bot.runs.announce opens


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}
