"""Topic channels end to end: the crew file's `[channels]` moves a run's thread and a role's
standup to their channels, through the outbox, the real slack_sdk and the Slack emulator; the
default crew keeps posting everything in #crew."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from bot.roster.loader import parse_crew, roster_text
from bot.roster.models import Crew
from bot.runs.announce import announce
from bot.runs.states import RunState
from bot.slack.poster import SlackPoster
from bot.standups.run import check_standups, due_standups
from bot.store.runs import get_run, insert_run
from emulators.server import running
from emulators.slack import DEFAULT_TOKEN, SlackEmulator, create_app
from repocrew import demo_session
from tests.integration.test_slack_crew import command, wait_until
from tests.integration.test_slack_outbox import BOT, HUMAN, FakeClock, drain_all
from tests.integration.test_standups import as_roster
from tests.support.identity import prove_link
from tests.support.world import REPO, emulated_world
from tests.unit.test_standup_facts import BERLIN_CREW, MONDAY_9_BERLIN, seed
from tests.unit.test_standup_render import SEEDED_STANDUP

DEFAULT = roster_text("default")
BY_TOPIC = '\n[channels.topics]\ncode = "#development"\nsprint = "#general"\n'
BY_ROLE = '\n[channels.roles]\ntester = "#qa"\n'


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(clock: FakeClock) -> SlackEmulator:
    return SlackEmulator(monotonic=clock.monotonic)  # Slack's limits, on the test's clock


@pytest.fixture
def poster(emulator: SlackEmulator) -> Iterator[SlackPoster]:
    with running(create_app(emulator)) as base:
        yield SlackPoster(token=DEFAULT_TOKEN, base_url=base + "/api/")


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    seed(engine)
    return engine


def crew_with(extra: str, text: str = DEFAULT) -> Crew:
    return parse_crew(text + extra, source="crew.toml")


def posts(emulator: SlackEmulator, channel: str) -> list:
    return list(emulator.channel_transcript(channel).posts)


def announce_a_run(engine: Engine, crew: Crew) -> None:
    run = get_run(
        engine, insert_run(engine, state="planning", repo="octo/hello", task="Add a flag")
    )
    plan = {"summary": "Add the flag to cli.py"}
    announce(
        engine,
        crew,
        run,
        step_key="plan-1",
        role=crew.role_for("plan"),
        output=plan,
        target=RunState.RESEARCHING,
        web_url="https://github.com",
    )


@pytest.mark.parametrize(
    ("extra", "channel"),
    [("", "#crew"), (BY_TOPIC, "#development"), (BY_TOPIC + BY_ROLE, "#development")],
    ids=["default", "code-topic", "code-topic-and-a-role"],
)
def test_a_runs_thread_opens_in_its_owners_channel(engine, poster, emulator, clock, extra, channel):
    for name in ("development", "qa"):
        emulator.add_channel(name, members=(HUMAN, BOT))
    announce_a_run(engine, crew_with(extra))
    drain_all(engine, poster, clock)
    [thread] = posts(emulator, channel)
    assert thread.persona == "Team Lead" and thread.text.startswith("Task:")
    assert [reply.persona for reply in thread.replies] == ["Planner"]
    others = {"#crew", "#development", "#qa"} - {channel}
    assert all(posts(emulator, other) == [] for other in others)


def test_a_runs_thread_stays_where_it_opened_when_the_crew_file_changes(
    engine, poster, emulator, clock
):
    emulator.add_channel("development", members=(HUMAN, BOT))
    run_id = insert_run(engine, state="planning", repo="octo/hello", task="Add a flag")
    for crew, step, target in [
        (crew_with(""), "plan-1", RunState.RESEARCHING),
        (crew_with(BY_TOPIC), "research-1", RunState.CODING),
    ]:
        announce(
            engine,
            crew,
            get_run(engine, run_id),
            step_key=step,
            role=crew.role_for(step.split("-")[0]),
            output={"summary": step},
            target=target,
            web_url="https://github.com",
        )
    drain_all(engine, poster, clock)
    [thread] = posts(emulator, "#crew")
    assert [reply.persona for reply in thread.replies] == ["Planner", "Researcher"]
    assert posts(emulator, "#development") == []


def test_each_channel_with_roles_holds_its_standup_once_a_day(seeded, poster, emulator, clock):
    emulator.add_channel("qa", members=(HUMAN, BOT))
    crew = crew_with(BY_ROLE, text=BERLIN_CREW)
    assert due_standups(seeded, crew, MONDAY_9_BERLIN) == ["#crew", "#qa"]
    results = check_standups(seeded, crew, now=MONDAY_9_BERLIN)
    assert [(r.channel, r.outcome, r.messages) for r in results] == [
        ("#crew", "posted", 6),
        ("#qa", "posted", 3),
    ]
    # Once per channel and day: a second check (or a forced one) posts nothing more.
    assert check_standups(seeded, crew, now=MONDAY_9_BERLIN) == []
    drain_all(seeded, poster, clock)

    [crew_standup] = posts(emulator, "#crew")
    personas = [reply.persona for reply in crew_standup.replies]
    assert personas == ["Planner", "Researcher", "Coder", "Reviewer", "Team Lead"]
    [qa_standup] = posts(emulator, "#qa")
    assert [reply.persona for reply in qa_standup.replies] == ["Tester", "Team Lead"]
    # Each agent says what the unrouted standup has it say; the lead sums up the whole team.
    whole = SEEDED_STANDUP.split("\n[")
    tester = next(part for part in whole if part.startswith("tester]"))
    assert "[" + tester in as_roster(qa_standup)
    assert as_roster(qa_standup).endswith(whole[-1])


def test_a_routed_crews_run_from_slack_threads_in_the_coders_channel(tmp_path):
    crew_file = tmp_path / "crew.toml"
    crew_file.write_text(DEFAULT + '\n[channels.roles]\ncoder = "#development"\n')
    database = f"sqlite:///{tmp_path / 'repocrew.db'}"
    with emulated_world(database, tmp_path / "work", crew_file=crew_file) as world:
        world.chat.add_channel("development", members=(HUMAN,))  # the bot joins it itself
        prove_link(world, "octocat")
        command(world, f"task {REPO} {demo_session.TASK_TITLE}. {demo_session.TASK_BODY}")

        def thread():
            found = [p for p in posts(world.chat, "#development") if p.text.startswith("Task:")]
            return found[0] if found and len(found[0].replies) == 9 else None

        opened = wait_until(thread, "the run's thread in #development, up to the decision")
        assert opened.persona == "Team Lead"
        assert [reply.persona for reply in opened.replies][:4] == [
            "Planner",
            "Researcher",
            "Coder",
            "Reviewer",
        ]
        # The answer to the command stays where it was asked, and says where the run is.
        [reply] = posts(world.chat, "#crew")
        assert "The crew reports in #development." in reply.text
        world.human.close()


def test_a_sprint_tasks_run_threads_in_its_owners_channel(engine, poster, emulator, clock):
    """A sprint task's run is owned by the task's role, not the crew's usual coder."""
    from bot.store.sprints import claim_task_run, insert_sprint, save_tasks

    for name in ("development", "qa"):
        emulator.add_channel(name, members=(HUMAN, BOT))
    crew = crew_with(BY_TOPIC + BY_ROLE)
    sprint = insert_sprint(engine, repo="octo/hello", goal="Ship", state="running")
    task = {"key": "T", "title": "Test plan", "body": "", "acceptance": [], "owner": "tester",
            "depends_on": []}  # fmt: skip
    save_tasks(engine, sprint_id=sprint, tasks=[task])
    run_id = insert_run(engine, state="planning", repo="octo/hello", task="Test plan")
    assert claim_task_run(engine, sprint_id=sprint, key="T", run_id=run_id)
    announce(
        engine,
        crew,
        get_run(engine, run_id),
        step_key="plan-1",
        role=crew.role_for("plan"),
        output={"summary": "Write the test plan"},
        target=RunState.RESEARCHING,
        web_url="https://github.com",
    )
    drain_all(engine, poster, clock)

    [thread] = posts(emulator, "#qa")
    assert thread.text.startswith("Task:")
    assert posts(emulator, "#development") == [] and posts(emulator, "#crew") == []
