"""The dashboard in a real browser: headless Chromium (Debian's) driven by Playwright logs in
through the form, walks every page of a seeded store, clicks from the runs list to a run, checks
what it shows, follows the Jobs page to a dead job's error and back to its delivery, and saves
screenshots as test artefacts (`REPOCREW_TEST_ARTIFACTS`, default `test-artifacts/`, under
`dashboard/`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from emulators.server import running
from tests.conftest import REPO, make_settings
from tests.support.dashboard_store import (
    CALLS,
    DASHBOARD_TOKEN,
    MATRIX,
    PLANTED,
    RUN_1_STEPS,
    VOTES,
    Seeded,
    seed,
)
from webhooks.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"no Chromium at {CHROMIUM} (Debian's `chromium` package; `make test` installs it)",
)


@pytest.fixture(scope="module")
def artifacts() -> Path:
    root = Path(os.environ.get("REPOCREW_TEST_ARTIFACTS") or REPO / "test-artifacts")
    directory = root / "dashboard"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[str, Seeded]]:
    """The real app on a loopback port over a seeded SQLite store: (base URL, seeded ids)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('dashboard') / 'repocrew.db'}"
    engine = make_engine(url)
    upgrade(engine)
    ids = seed(engine)
    app = create_app(make_settings(url, dashboard_token=DASHBOARD_TOKEN), engine=engine)
    with running(app) as base:
        yield base, ids
    engine.dispose()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_a_person_logs_in_and_walks_the_dashboard(served, browser, artifacts):
    base, ids = served
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    seen: list[str] = []

    def keep(name: str) -> None:
        seen.append(page.content())
        page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)

    # A stranger is sent to the login; a wrong token is refused, the right one lets them in.
    page.goto(f"{base}/dashboard/team")
    assert page.url.startswith(f"{base}/dashboard/login?next=")
    page.fill("#token", "not-the-dashboard-token")
    page.click("button[type=submit]")
    assert page.locator(".error").inner_text() == "That is not the dashboard token."
    keep("01-login-refused")
    page.fill("#token", DASHBOARD_TOKEN)
    page.click("button[type=submit]")
    assert page.url == f"{base}/dashboard/team"

    # The team page: the hand-off matrix as a heat map, the standup and its reply.
    matrix = page.locator("#interaction-matrix")
    matrix.wait_for()
    shade = {}
    for (giver, taker), count in MATRIX.items():
        cell = matrix.locator(f'td[data-giver="{giver}"][data-taker="{taker}"]')
        assert cell.inner_text() == str(count)
        shade[giver, taker] = _alpha(cell.evaluate("c => getComputedStyle(c).backgroundColor"))
    assert shade["planner", "researcher"] == 1 > shade["tester", "lead"] > 0
    empty = matrix.locator('td[data-giver="lead"][data-taker="planner"]')
    assert _alpha(empty.evaluate("c => getComputedStyle(c).backgroundColor")) == 0
    assert "I'll merge today." in page.locator(".standup").first.inner_text()
    keep("02-team")

    # The runs list, then a click through to the finished run.
    page.click("header nav >> text=Runs")
    rows = page.locator("#runs tbody tr")
    assert rows.count() == 3
    done = page.locator(f'tr[data-run="{ids.done}"]')
    assert "done" in done.inner_text() and "#12" in done.inner_text()
    assert "failed" in page.locator(f'tr[data-run="{ids.failed}"]').inner_text()
    keep("03-runs")
    done.locator("text=Add a --version flag").click()
    assert page.url == f"{base}/dashboard/runs/{ids.done}"

    timeline = page.locator("#timeline li")
    moves = [timeline.nth(i).get_attribute("data-to") for i in range(timeline.count())]
    assert moves == ["planning", *[step[1] for step in RUN_1_STEPS], "awaiting_human", "done"]
    assert "code-1 by coder" in timeline.nth(3).inner_text()
    votes = page.locator("#votes tbody tr")
    assert [votes.nth(i).locator("td").nth(1).inner_text() for i in range(3)] == [
        role for role, _, _ in VOTES
    ]
    cost = sum(call[5] for call in CALLS if call[0] == 1)
    assert f"${cost:.4f}" in page.locator("#spend").inner_text()
    page.locator("#step-code-1 details.tool summary").first.click()
    keep("04-run-timeline")

    # The failed run and the deliveries audit log.
    page.goto(f"{base}/dashboard/runs/{ids.failed}")
    assert "no result saved" in page.locator("#step-code-1").inner_text()
    keep("05-run-failed")
    page.click("header nav >> text=Deliveries")
    assert page.locator("#deliveries tbody tr").count() == 3
    page.locator("#deliveries summary").first.click()
    assert "[REDACTED:by key]" in page.locator("#deliveries pre").first.inner_text()
    github_issue = page.locator(f"#delivery-{ids.deliveries['d-1']}")
    assert github_issue.locator(".delivery-state").inner_text() == "dead"
    keep("06-deliveries")

    # The Jobs page: every state with its error, filtered to the dead; then the dead job whole.
    page.click("header nav >> text=Jobs")
    assert page.locator("#jobs tbody tr").count() == 4
    dead = page.locator(f'tr[data-job="{ids.jobs.dead}"]')
    assert "dead" in dead.inner_text() and "RuntimeError: GitHub refused" in dead.inner_text()
    assert "retrying" in page.locator(f'tr[data-job="{ids.jobs.retrying}"]').inner_text()
    keep("07-jobs")
    page.click("#job-states >> text=dead (1)")
    assert page.url == f"{base}/dashboard/jobs?state=dead"
    assert page.locator("#jobs tbody tr").count() == 1
    dead.locator(".job-error a").click()
    assert page.url == f"{base}/dashboard/jobs/{ids.jobs.dead}"
    error = page.locator("#job-error").inner_text()
    assert error.startswith("Traceback (most recent call last):")
    assert 'File "jobs/handlers.py", line 40, in github_event' in error
    assert "[REDACTED:" in error and error.rstrip().endswith("<script>x</script>")
    assert page.locator("script").count() == 0  # shown as text, never run
    keep("08-dead-job")
    page.click("text=delivery #")
    assert page.url.endswith(f"#delivery-{ids.deliveries['d-1']}")
    assert page.locator(f"#delivery-{ids.deliveries['d-1']}").is_visible()

    for html in seen:
        for secret in PLANTED:
            assert secret not in html

    page.click("text=Log out")
    assert page.url.startswith(f"{base}/dashboard/login")
    page.goto(f"{base}/dashboard")
    assert "/dashboard/login" in page.url


def _alpha(color: str) -> float:
    """The opacity of a computed CSS colour: `rgb(…)` is opaque, `rgba(r, g, b, a)` is a."""
    parts = color[color.index("(") + 1 : -1].split(",")
    return float(parts[3]) if len(parts) == 4 else 1.0
