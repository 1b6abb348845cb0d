""" "Sign in with GitHub" on the dashboard, with a browser-less HTTP client following redirects
between repocrew and the GitHub emulator: a writer on an installed repository gets in, a reader
is refused, and a callback whose state was not made for this browser is refused."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.identity import signed_in
from tests.support.world import World, emulated_world


@pytest.fixture
def world(tmp_path) -> Iterator[World]:
    database = f"sqlite:///{tmp_path / 'repocrew.db'}"
    with emulated_world(database, tmp_path / "work", in_process_worker=False) as world:
        yield world


def test_a_writer_signs_in_with_github_and_sees_the_runs(world):
    browser = signed_in(world.hub_url, "octocat")  # signed in to the emulated github.com
    login = browser.get(f"{world.crew_url}/dashboard/team")
    assert login.url.path == "/dashboard/login" and "Sign in with GitHub" in login.text
    answer = browser.get(
        f"{world.crew_url}/dashboard/login/github", params={"next": "/dashboard/team"}
    )
    hops = [str(r.url) for r in answer.history]
    assert any(hop.startswith(f"{world.hub_url}/login/oauth/authorize") for hop in hops)
    assert answer.status_code == 200 and answer.url.path == "/dashboard/team"
    assert browser.get(f"{world.crew_url}/dashboard").status_code == 200
    browser.close()


def test_a_reader_is_refused_and_gets_no_session(world):
    browser = signed_in(world.hub_url, "reader")
    answer = browser.get(f"{world.crew_url}/dashboard/login/github")
    assert answer.status_code == 403
    assert "You are @reader on GitHub, without write access" in answer.text
    runs = browser.get(f"{world.crew_url}/dashboard")
    assert runs.url.path == "/dashboard/login"  # still not in
    browser.close()


def test_a_callback_started_in_another_browser_is_refused(world):
    victim = signed_in(world.hub_url, "octocat", follow_redirects=False)
    started = victim.get(f"{world.crew_url}/dashboard/login/github")
    authorize = victim.get(started.headers["location"])
    callback = authorize.headers["location"]
    assert parse_qs(urlsplit(callback).query)["code"]
    victim.close()
    attacker = signed_in(world.hub_url, "reader")  # has no state cookie of that sign-in
    answer = attacker.get(callback)
    assert answer.status_code == 400 and "another browser" in answer.text
    assert attacker.get(f"{world.crew_url}/dashboard").url.path == "/dashboard/login"
    attacker.close()
