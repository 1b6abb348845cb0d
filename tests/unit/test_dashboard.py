"""The dashboard over HTTP: off without its token, a login in front of every page, the pages'
content from a seeded store, bad input refused, and no secret in any page."""

from __future__ import annotations

import re
import time
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from bot.runs.progress import create_run
from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from tests.conftest import STORES, fresh_store, make_settings
from tests.support.dashboard_store import (
    CALLS,
    DASHBOARD_TOKEN,
    FAIL_REASON,
    MATRIX,
    PLANTED,
    RUN_1_STEPS,
    VOTES,
    Seeded,
    seed,
)
from webhooks.app import create_app
from webhooks.dashboard.auth import COOKIE, SESSION_SECONDS, new_session, session_key
from webhooks.dashboard.runs import PAGE, runs_page

PAGES = ["/dashboard", "/dashboard/team", "/dashboard/deliveries"]


@pytest.fixture(scope="module", params=STORES)
def seeded(request, tmp_path_factory):
    """One seeded store and app for the module (the pages only read): (client, seeded)."""
    with fresh_store(request, request.param, tmp_path_factory.mktemp("dashboard")) as url:
        engine = make_engine(url)
        upgrade(engine)
        ids = seed(engine)
        settings = make_settings(url, dashboard_token=DASHBOARD_TOKEN)
        with TestClient(create_app(settings, engine=engine)) as client:
            yield client, ids
        engine.dispose()


def _log_in(client: TestClient) -> None:
    client.cookies.clear()
    answer = client.post(
        "/dashboard/login", data={"token": DASHBOARD_TOKEN}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text


def _all_pages(ids: Seeded) -> list[str]:
    runs = [f"/dashboard/runs/{n}" for n in (ids.done, ids.failed, ids.queued)]
    return [*PAGES, *runs, "/dashboard/deliveries?source=slack", "/dashboard/team?days=1"]


def test_without_a_token_the_dashboard_is_off_and_says_how_to_turn_it_on(tmp_path):
    url = f"sqlite:///{tmp_path / 'off.db'}"
    with TestClient(create_app(make_settings(url))) as client:
        for answer in [
            client.get("/dashboard"),
            client.get("/dashboard/runs/1"),
            client.get("/dashboard/login"),
            client.post("/dashboard/login", data={"token": "anything-at-all-here"}),
        ]:
            assert answer.status_code == 404
            assert "REPOCREW_DASHBOARD_TOKEN" in answer.text
            assert COOKIE not in answer.headers.get("set-cookie", "")


def test_a_short_token_is_refused_at_start_up(tmp_path):
    with pytest.raises(ValidationError, match="at least 16 characters"):
        make_settings(f"sqlite:///{tmp_path / 'x.db'}", dashboard_token="short")


def test_every_page_sends_a_stranger_to_the_login(seeded):
    client, ids = seeded
    client.cookies.clear()
    for path in _all_pages(ids):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == f"/dashboard/login?next={quote(path, safe='')}"
    client.cookies.set(COOKIE, "v1.9999999999.forged", path="/dashboard")
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_a_wrong_token_gets_401_and_no_session(seeded):
    client, _ = seeded
    client.cookies.clear()
    answer = client.post("/dashboard/login", data={"token": DASHBOARD_TOKEN + "x"})
    assert answer.status_code == 401
    assert "not the dashboard token" in answer.text
    assert "set-cookie" not in answer.headers
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_the_right_token_buys_a_session_cookie_and_goes_where_it_was_asked(seeded):
    client, ids = seeded
    client.cookies.clear()
    target = f"/dashboard/runs/{ids.done}"
    answer = client.post(
        "/dashboard/login", data={"token": DASHBOARD_TOKEN, "next": target}, follow_redirects=False
    )
    assert (answer.status_code, answer.headers["location"]) == (303, target)
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=v1.")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/dashboard" in cookie
    assert DASHBOARD_TOKEN not in cookie
    for path in _all_pages(ids):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["cache-control"] == "no-store"
        assert "default-src 'none'" in answer.headers["content-security-policy"]


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/healthz"])
def test_the_login_never_redirects_off_the_dashboard(seeded, target):
    client, _ = seeded
    client.cookies.clear()
    answer = client.post(
        "/dashboard/login", data={"token": DASHBOARD_TOKEN, "next": target}, follow_redirects=False
    )
    assert answer.headers["location"] == "/dashboard"


def _flip_signature(cookie: str) -> str:
    # The first character: base64's last one may carry only padding bits.
    head, signature = cookie.rsplit(".", 1)
    return f"{head}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"


def test_only_a_fresh_untampered_session_under_this_token_opens_a_page(seeded):
    client, _ = seeded
    now = time.time()
    key = session_key(DASHBOARD_TOKEN)
    _log_in(client)
    issued = client.cookies[COOKIE]
    refused = {
        "expired": new_session(key, now=now - SESSION_SECONDS - 60),
        "issued in the future": new_session(key, now=now + 3600),
        "another token": new_session(session_key(DASHBOARD_TOKEN + "-before"), now=now),
        "tampered": _flip_signature(issued),
    }
    for why, cookie in refused.items():
        client.cookies.clear()
        client.cookies.set(COOKIE, cookie, path="/dashboard")
        assert client.get("/dashboard", follow_redirects=False).status_code == 303, why
    client.cookies.clear()
    client.cookies.set(COOKIE, new_session(key, now=now - 60), path="/dashboard")
    assert client.get("/dashboard", follow_redirects=False).status_code == 200


def test_logging_out_ends_the_session(seeded):
    client, _ = seeded
    _log_in(client)
    answer = client.post("/dashboard/logout", follow_redirects=False)
    assert answer.status_code == 303
    assert f'{COOKIE}=""' in answer.headers["set-cookie"]


def test_an_oversized_login_form_is_refused(seeded):
    client, _ = seeded
    client.cookies.clear()
    answer = client.post("/dashboard/login", content=b"token=" + b"a" * 5000)
    assert answer.status_code == 413


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/runs/abc",
        "/dashboard?state=sleeping",
        "/dashboard?before=0",
        "/dashboard/team?days=0",
        "/dashboard/team?days=9999",
        "/dashboard/deliveries?source=ftp",
    ],
)
def test_bad_parameters_get_422(seeded, path):
    client, _ = seeded
    _log_in(client)
    assert client.get(path).status_code == 422


def test_an_unknown_run_is_a_404_page(seeded):
    client, _ = seeded
    _log_in(client)
    answer = client.get("/dashboard/runs/987654")
    assert answer.status_code == 404 and "no run 987654" in answer.text


def test_no_page_shows_a_planted_secret(seeded):
    client, ids = seeded
    _log_in(client)
    redacted = 0
    for path in _all_pages(ids):
        html = client.get(path).text
        for secret in PLANTED:
            assert secret not in html, (path, secret[:6])
        redacted += html.count("[REDACTED:")
    # The planted texts were shown, redacted: in the result, the reply, the tool result, the
    # standup reply and three delivery fields (twice over: all sources, then Slack only).
    assert redacted >= 9


def test_the_runs_list_shows_state_repo_issue_pr_and_cost(seeded):
    client, ids = seeded
    _log_in(client)
    html = client.get("/dashboard").text
    row = _row(html, ids.done)
    cost = sum(call[5] for call in CALLS if call[0] == 1)
    for shown in ["done", "octo-org/hello", "#7", "#12", f"${cost:.4f}", "Add a --version flag"]:
        assert shown in row, shown
    failed = _row(html, ids.failed)
    assert "failed" in failed and "octo-org/widgets" in failed and "#9" in failed
    assert f'/dashboard/runs/{ids.queued}"' in html
    assert f'data-run="{ids.done}"' in client.get("/dashboard?state=").text  # the form's "any"
    only_failed = client.get("/dashboard?state=failed").text
    assert f'data-run="{ids.failed}"' in only_failed and f'data-run="{ids.done}"' not in only_failed


def test_a_run_page_has_its_timeline_steps_calls_and_votes(seeded):
    client, ids = seeded
    _log_in(client)
    html = client.get(f"/dashboard/runs/{ids.done}").text
    timeline = re.findall(r'<li data-to="(\w+)">', html)
    expected = ["planning"] + [step[1] for step in RUN_1_STEPS] + ["awaiting_human", "done"]
    assert timeline == expected
    steps = re.findall(r'<section class="step" id="step-([\w-]+)">', html)
    assert steps == [step[2] for step in RUN_1_STEPS] + ["vote-1"]
    for role, decision, reason in VOTES:
        assert re.search(rf"<td>{role}</td><td class=\"vote-{decision}\">{decision}</td>", html)
        assert reason in html
    tokens = sum(call[3] + call[4] for call in CALLS if call[0] == 1)
    cost = sum(call[5] for call in CALLS if call[0] == 1)
    assert f"{len([c for c in CALLS if c[0] == 1])} calls · {tokens:,} tokens · ${cost:.4f}" in html
    assert "tool call: write_file" in html and "Please add a test." in html
    assert "pull request #12 merged by octocat" in html


def test_a_failed_run_shows_why_and_the_step_that_never_finished(seeded):
    client, ids = seeded
    _log_in(client)
    html = client.get(f"/dashboard/runs/{ids.failed}").text
    assert FAIL_REASON in html.replace("&#39;", "'")
    code = html.split('id="step-code-1"', 1)[1].split("</section>", 1)[0]
    assert "no result saved" in code and "Editing .github/workflows." in code
    assert "No votes." in html


def test_the_team_page_draws_the_hand_off_matrix_as_a_heat_map(seeded):
    client, ids = seeded
    _log_in(client)
    html = client.get("/dashboard/team").text
    cells = re.findall(
        r'data-giver="(\w+)" data-taker="(\w+)" data-count="(\d+)"[^>]*\s+'
        r'style="background-color: rgba\(9, 105, 218, ([\d.]+)\)',
        html,
    )
    counts = {(giver, taker): int(count) for giver, taker, count, _ in cells}
    assert {pair: n for pair, n in counts.items() if n} == MATRIX
    roles = {role for pair in MATRIX for role in pair}
    assert len(cells) == len(roles) ** 2
    shade = {(giver, taker): float(alpha) for giver, taker, _, alpha in cells}
    assert shade["planner", "researcher"] == 1.0  # the busiest hand-off
    assert 0 < shade["tester", "lead"] < 1.0 and shade["lead", "planner"] == 0
    assert ids.day in html and "I&#39;ll merge today." in html


def test_the_deliveries_page_is_the_audit_log_with_credentials_masked(seeded):
    client, _ = seeded
    _log_in(client)
    html = client.get("/dashboard/deliveries").text
    assert html.index("s-1") < html.index("d-2") < html.index("d-1")  # newest first
    assert "issues.labeled" in html and "Keep it simple." in html
    assert "[REDACTED:by key]" in html
    slack_only = client.get("/dashboard/deliveries?source=slack").text
    assert "s-1" in slack_only and "d-1" not in slack_only


def _row(html: str, run_id: int) -> str:
    return html.split(f'<tr data-run="{run_id}">', 1)[1].split("</tr>", 1)[0]


def test_the_runs_list_pages_by_id(engine):
    made = [create_run(engine, repo="o/r", task="t") for _ in range(PAGE + 3)]
    first = runs_page(engine)
    assert [run.id for run in first.runs] == made[::-1][:PAGE]
    second = runs_page(engine, before=first.older)
    assert [run.id for run in second.runs] == made[2::-1] and second.older is None
