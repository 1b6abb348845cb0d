"""`/crew` in Slack: the grammar, the command table and what each command does.

The web layer has acknowledged the command already; the worker runs it here. Who may do what,
and how answers reach people, is in `slack_actions` (shared with the buttons): `link` and `help`
are for anyone, the rest for linked users, and `task`, `stop` and `changes` need write access
to the repository on GitHub.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.metrics.collaboration import collaboration_metrics
from bot.metrics.render import render_metrics
from bot.roster.loader import load_crew
from bot.roster.models import Crew
from bot.roster.routing import run_channel, standup_channels
from bot.runs.links import github_web_url, run_link
from bot.runs.states import TERMINAL
from bot.services import Services
from bot.slack.blocks import escape
from bot.standups.run import ALREADY_POSTED, IN_PROGRESS, hold_standup
from bot.standups.schedule import ScheduleError, set_schedule
from bot.store.run_queries import active_runs
from bot.store.runs import get_run, outputs
from bot.store.slack_outbox import failed_in_thread
from bot.triggers.slack_actions import send_back, stop
from bot.triggers.slack_asker import UNLINKED, Asker, repo_gateway, run_for, steered_run
from bot.triggers.slack_deliveries import router
from bot.triggers.slack_link import start_link
from bot.triggers.slack_sprints import sprint_command
from bot.triggers.starting import RunRequest, start_run

REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
TITLE_LIMIT = 120
STANDUP_REFUSALS = {
    ALREADY_POSTED: "Today's standup in this channel is posted already (one a day).",
    IN_PROGRESS: "Today's standup in this channel is being posted right now.",
}


# -- the commands -------------------------------------------------------------------------


def _task(asker: Asker, rest: str) -> None:
    repo, _, description = unescape(rest).strip().partition(" ")
    description = description.strip()
    if not REPO.match(repo) or not description:
        asker.tell("Usage: `/crew task owner/repo <what the crew should do>`")
        return
    found = repo_gateway(asker, repo)
    if found is None:
        return
    gateway, installation = found
    login = asker.login or ""  # the account's login now, as GitHub said
    crew = load_crew(asker.settings.crew_file)
    title, body = issue_title(description), f"{description}\n\nRequested by @{login} from Slack."
    issue = gateway.create_issue(title, body, role=crew.lead)
    request = RunRequest(
        repo=repo,
        installation_id=installation,
        number=issue.number,
        title=title,
        body=body,
        requested_by=f"{login} <{login}@users.noreply.github.com>",
    )
    run_id = start_run(asker.services, gateway, request)
    where = f"{repo}#{issue.number}"
    if run_id is None:
        asker.tell(f"I opened {where}, but the crew did not start: see the issue for why.")
        return
    link = run_link(get_run(asker.engine, run_id), github_web_url(asker.settings))
    asker.say(
        f"<@{asker.user}> asked the crew for <{link}|{escape(where)}: {escape(title)}>"
        f" (run {run_id}). The crew reports in {run_channel(crew) or 'the issue'}."
    )


def _link(asker: Asker, rest: str) -> None:
    login = rest.strip().removeprefix("@")
    if login and not LOGIN.match(login):
        asker.tell("Usage: `/crew link [github-login]`")
        return
    start_link(asker, login or None)


def _status(asker: Asker, rest: str) -> None:
    if asker.login is None:
        asker.tell(UNLINKED)
        return
    if rest.strip():
        run = run_for(asker, rest.strip())
        if run is not None:
            done = ", ".join(outputs(asker.engine, run.id or 0)) or "nothing yet"
            asker.tell(f"{run_line(run)}\nFinished steps: {done}.{undelivered(asker, run)}")
        return
    active = active_runs(asker.engine, ended=TERMINAL, limit=10)
    asker.tell("\n".join(run_line(run) for run in active) or "No run is active.")


def _stop(asker: Asker, rest: str) -> None:
    found = steered_run(asker, rest.strip() or "?")
    if found is not None:
        stop(asker, found[0], in_thread=False)


def _changes(asker: Asker, rest: str) -> None:
    word, _, feedback = unescape(rest).strip().partition(" ")
    if not feedback.strip():
        asker.tell("Usage: `/crew changes <run> <what to change>`")
        return
    found = steered_run(asker, word)
    if found is not None:
        key, text = f"human-slack-{asker.key[:40]}", feedback.strip()
        send_back(asker, found[0], key=key, feedback=text, in_thread=False)


def _standup(asker: Asker, rest: str) -> None:
    if asker.login is None:
        asker.tell(UNLINKED)
        return
    if rest.strip().startswith("schedule"):
        _schedule(asker, rest.strip())
        return
    crew = load_crew(asker.settings.crew_file)
    channel = standup_channel(crew, asker)
    held = hold_standup(asker.engine, crew, channel=channel, now=asker.services.clock(), force=True)
    if held.outcome in STANDUP_REFUSALS:
        asker.tell(STANDUP_REFUSALS[held.outcome])


def _schedule(asker: Asker, rest: str) -> None:
    try:
        _, cron, zone = shlex.split(unescape(rest))
    except ValueError:
        asker.tell('Usage: `/crew standup schedule "<cron>" <Zone>`, e.g. "0 9 * * 1-5" UTC')
        return
    channel = standup_channel(load_crew(asker.settings.crew_file), asker)
    try:
        set_schedule(asker.engine, channel=channel, cron=cron, timezone=zone)
    except ScheduleError as error:
        asker.tell(str(error))
        return
    asker.say(f"<@{asker.user}> set this channel's standup to `{escape(cron)}` ({escape(zone)}).")


def _metrics(asker: Asker, rest: str) -> None:
    if asker.login is None:
        asker.tell(UNLINKED)
        return
    word = rest.strip() or "7"
    if not word.isdigit() or not 1 <= int(word) <= 365:
        asker.tell("Usage: `/crew metrics [days]`, days from 1 to 365.")
        return
    end = asker.services.clock()
    found = collaboration_metrics(asker.engine, start=end - timedelta(days=int(word)), end=end)
    text, blocks = render_metrics(found)
    asker.say(text, blocks=blocks)


def _sprint(asker: Asker, rest: str) -> None:
    sprint_command(asker, unescape(rest), REPO)


def _help(asker: Asker, _rest: str) -> None:
    asker.tell(help_text())


@dataclass(frozen=True)
class SlashCommand:
    run: Callable[[Asker, str], None]
    usage: str
    what: str


COMMANDS: dict[str, SlashCommand] = {
    "task": SlashCommand(
        _task, "task owner/repo <description>", "open an issue and start a run on it (write)"
    ),
    "link": SlashCommand(
        _link, "link [github-login]", "prove who you are on GitHub (GitHub asks you to confirm)"
    ),
    "status": SlashCommand(_status, "status [run]", "the active runs, or where one run is"),
    "stop": SlashCommand(_stop, "stop <run>", "stop a run (write)"),
    "changes": SlashCommand(
        _changes, "changes <run> <feedback>", "send a waiting run back to the coder (write)"
    ),
    "standup": SlashCommand(
        _standup,
        'standup [schedule "<cron>" <Zone>]',
        "post a standup here now, or set when this channel has one",
    ),
    "sprint": SlashCommand(
        _sprint,
        "sprint owner/repo <goal> [--days N], sprint close <sprint>",
        "open a tracking issue and have the lead plan a sprint; close sends one to review (write)",
    ),
    "metrics": SlashCommand(_metrics, "metrics [days]", "how the crew and people worked together"),
    "help": SlashCommand(_help, "help", "this list"),
}


# -- pure helpers -------------------------------------------------------------------------


def parse(text: str) -> tuple[str, str]:
    """`task octo/x Fix it` → ("task", "octo/x Fix it"); "" → help; an unknown word → unknown."""
    word, _, rest = text.strip().partition(" ")
    word = word.lower() or "help"
    return (word if word in COMMANDS else "unknown"), rest


def help_text() -> str:
    rows = "\n".join(f"• `/crew {c.usage}`: {c.what}" for c in COMMANDS.values())
    return (
        f"*repocrew in Slack*\n{rows}\n"
        "(write) needs write access to the repository on GitHub, as your linked login."
    )


def issue_title(description: str) -> str:
    """The first line's first sentence, short enough for a title."""
    line = description.strip().splitlines()[0].strip()
    sentence = re.split(r"(?<=[.!?])\s", line, maxsplit=1)[0].rstrip(".")
    return sentence if len(sentence) <= TITLE_LIMIT else sentence[: TITLE_LIMIT - 1] + "…"


def undelivered(asker: Asker, run: Any) -> str:
    """The run's Slack posts that failed (kept, with Slack's reason), so nobody is left
    guessing why its thread is quiet."""
    failed = failed_in_thread(asker.engine, thread_key=f"run:{run.id}")
    if not failed:
        return ""
    reasons = ", ".join(sorted({reason for _key, reason in failed}))
    return f"\nSlack posts not delivered: {len(failed)} ({escape(reasons)}); they are kept."


def run_line(run: Any) -> str:
    where = f"{run.repo}#{run.issue_number}" if run.issue_number else run.repo
    return f"Run {run.id} · `{run.state}` · {escape(where)} · {escape(run.title)}"


def standup_channel(crew: Crew, asker: Asker) -> str:
    """The name crew.toml knows the channel by ("#crew"), so a forced standup and the scheduled
    one are the same standup; Slack's id for any other channel."""
    named = f"#{asker.channel_name}"
    return named if named in {*standup_channels(crew), crew.channel} else asker.channel


def unescape(text: str) -> str:
    """Slack escapes &, < and > in command text; GitHub should get what was typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@router.register("command", "/crew")
def crew_command(body: dict, services: Services) -> None:
    asker = Asker.of(body, services)
    name, rest = parse(body.get("text", ""))
    if name == "unknown":
        word = escape(body.get("text", "").split()[0])
        asker.tell(f"I don't know `/crew {word}`.\n{help_text()}")
        return
    COMMANDS[name].run(asker, rest)
