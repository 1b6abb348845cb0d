"""Links to GitHub come from the configured host, so GitHub Enterprise Server works: the web
address of the API URL, or `REPOCREW_GITHUB_WEB_URL` when the operator set it; the run's Slack
thread and the steps' services use it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import Session

from bot.roster.loader import load_crew
from bot.runs.announce import announce
from bot.runs.lifecycle import crew_snapshot
from bot.runs.links import github_web_url, run_link
from bot.runs.progress import create_run
from bot.runs.states import RunState
from bot.security.hosts import web_url_of_api
from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from bot.store.models import SlackMessage
from bot.store.runs import get_run
from bot.wiring import Wiring
from tests.conftest import make_settings

GHE_API = "https://ghe.example.com/api/v3"
GHE = "https://ghe.example.com"


@pytest.mark.parametrize(
    ("api", "web"),
    [
        ("https://api.github.com", "https://github.com"),
        (GHE_API, GHE),
        ("https://GHE.Example.com./api/v3/", GHE),
        ("https://ghe.example.com:8443/api/v3", "https://ghe.example.com:8443"),
        ("http://127.0.0.1:9001", "http://127.0.0.1:9001"),  # the emulator
        ("ftp://ghe.example.com/api/v3", None),
        ("https://ghe.example.com:99999/api/v3", None),
    ],
)
def test_the_web_address_of_an_api_url(api, web):
    assert web_url_of_api(api) == web


def test_the_web_address_comes_from_the_api_url_unless_the_operator_set_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert github_web_url(make_settings(url)) == "https://github.com"
    assert github_web_url(make_settings(url, github_api_url=GHE_API)) == GHE
    chosen = make_settings(url, github_api_url=GHE_API, github_web_url="https://web.ghe.test/")
    assert github_web_url(chosen) == "https://web.ghe.test"


@pytest.fixture
def engine(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def _github_run(engine) -> int:
    crew = load_crew(None).model_copy(update={"channel": "#crew"})
    return create_run(
        engine,
        repo="octo-org/hello",
        task="Add a --version flag",
        forge="github",
        installation_id=1,
        issue_number=7,
        config=crew_snapshot(crew),
    )


def test_the_steps_services_carry_the_configured_web_address(engine, tmp_path):
    settings = make_settings(f"sqlite:///{tmp_path / 'store.db'}", github_api_url=GHE_API)
    run_id = _github_run(engine)
    services = Wiring(settings, engine).step_services(run_id, model=object(), forge=object())
    assert services.web_url == GHE
    assert run_link(get_run(engine, run_id), services.web_url) == f"{GHE}/octo-org/hello/issues/7"


def test_the_runs_slack_thread_links_to_the_configured_host(engine):
    run = get_run(engine, _github_run(engine))
    crew = load_crew(None).model_copy(update={"channel": "#crew"})
    planner = crew.roles["planner"]
    announce(
        engine,
        crew,
        run,
        step_key="plan-1",
        role=planner,
        output={"summary": "Add the flag to cli.py"},
        target=RunState.RESEARCHING,
        web_url=GHE,
    )
    with Session(engine) as session:
        posts = [m.text + str(m.blocks) for m in session.exec(select(SlackMessage)).scalars()]
    assert len(posts) == 2  # the thread's opening and the plan's reply
    for post in posts:
        assert f"{GHE}/octo-org/hello/issues/7" in post and "https://github.com" not in post
