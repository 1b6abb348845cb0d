"""Failures in the dashboard: the Jobs page (by state, with errors redacted and escaped, and
what each job belongs to), deliveries showing their job's real state, a vote step's calls
under the vote, and links to the configured GitHub host."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from tests.conftest import STORES, fresh_store, make_settings
from tests.support.dashboard_jobs import INSTALLATION_TOKEN, RETRY_ERROR
from tests.support.dashboard_store import DASHBOARD_TOKEN, PLANTED, VOTES, seed
from webhooks.app import create_app

GHE_API = "https://ghe.example.com/api/v3"
WORKERS_LIMIT = 7  # REPOCREW_JOB_MAX_ATTEMPTS: the limit of a job queued without its own


@pytest.fixture(scope="module", params=STORES)
def seeded(request, tmp_path_factory):
    """A seeded store served twice: on github.com and on a GitHub Enterprise Server."""
    with fresh_store(request, request.param, tmp_path_factory.mktemp("jobs")) as url:
        engine = make_engine(url)
        upgrade(engine)
        ids = seed(engine)
        clients = {}
        for name, api in [("github", None), ("ghe", GHE_API)]:
            extra = {"github_api_url": api} if api else {}
            settings = make_settings(
                url, dashboard_token=DASHBOARD_TOKEN, job_max_attempts=WORKERS_LIMIT, **extra
            )
            clients[name] = TestClient(create_app(settings, engine=engine)).__enter__()
            _log_in(clients[name])
        yield clients, ids
        for client in clients.values():
            client.__exit__(None, None, None)
        engine.dispose()


def _log_in(client: TestClient) -> None:
    answer = client.post(
        "/dashboard/login", data={"token": DASHBOARD_TOKEN}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text


def _row(html: str, attribute: str) -> str:
    return html.split(f"<tr {attribute}>", 1)[1].split("</tr>", 1)[0]


def test_a_delivery_shows_its_jobs_real_state_not_queued(seeded):
    clients, ids = seeded
    html = clients["github"].get("/dashboard/deliveries").text
    rows = {
        re.search(r"<summary>([\w-]+)</summary>", row).group(1): row
        for row in html.split("<tr")[2:]
    }
    assert ">dead<" in rows["d-1"] and "queued" not in rows["d-1"]
    assert f'href="/dashboard/jobs/{ids.jobs.dead}"' in rows["d-1"]
    assert ">retrying<" in rows["s-1"] and "queued" not in rows["s-1"]
    assert f'href="/dashboard/jobs/{ids.jobs.retrying}"' in rows["s-1"]
    assert "ignored" in rows["d-2"]


def test_the_jobs_page_lists_every_state_with_its_error_and_owner(seeded):
    clients, ids = seeded
    html = clients["github"].get("/dashboard/jobs").text
    assert re.findall(r'<tr data-job="(\d+)">', html) == [
        str(n) for n in (ids.jobs.queued, ids.jobs.done, ids.jobs.retrying, ids.jobs.dead)
    ]
    dead = _row(html, f'data-job="{ids.jobs.dead}"')
    assert "github.event" in dead and ">dead<" in dead and "1/1" in dead
    assert "RuntimeError: GitHub refused the installation token [REDACTED:" in dead
    assert "&lt;script&gt;" in dead and "<script>" not in dead
    assert f'#delivery-{ids.deliveries["d-1"]}"' in dead
    retrying = _row(html, f'data-job="{ids.jobs.retrying}"')
    assert ">retrying<" in retrying and RETRY_ERROR.strip() in retrying and "1/7" in retrying
    done = _row(html, f'data-job="{ids.jobs.done}"')
    assert f'href="/dashboard/runs/{ids.done}"' in done and ">done<" in done
    assert ">queued<" in _row(html, f'data-job="{ids.jobs.queued}"')
    for state, count in {"queued": 1, "retrying": 1, "running": 0, "done": 1, "dead": 1}.items():
        assert f'data-state="{state}" >{state} ({count})</a>' in html


@pytest.mark.parametrize(
    ("state", "shown"), [("dead", "dead"), ("retrying", "retrying"), ("queued", "queued")]
)
def test_the_jobs_page_filters_by_state(seeded, state, shown):
    clients, ids = seeded
    html = clients["github"].get(f"/dashboard/jobs?state={state}").text
    assert re.findall(r'<tr data-job="(\d+)">', html) == [str(getattr(ids.jobs, shown))]
    assert "No jobs running." in clients["github"].get("/dashboard/jobs?state=running").text


def test_a_dead_jobs_page_shows_its_whole_error_escaped_and_redacted(seeded):
    clients, ids = seeded
    html = clients["github"].get(f"/dashboard/jobs/{ids.jobs.dead}").text
    error = html.split('<pre id="job-error">', 1)[1].split("</pre>", 1)[0]
    assert error.startswith("Traceback (most recent call last):")
    assert "File &#34;jobs/handlers.py&#34;, line 40, in github_event" in error
    assert "handle(delivery)" in error and "&lt;script&gt;x&lt;/script&gt;" in error
    assert INSTALLATION_TOKEN not in html and "[REDACTED:" in error
    assert f'href="/dashboard/deliveries?before={ids.deliveries["d-1"] + 1}#delivery-' in html
    assert '<dd id="job-attempts">1 of 1, 1 failed</dd>' in html
    retrying = clients["github"].get(f"/dashboard/jobs/{ids.jobs.retrying}").text
    assert '<dd id="job-attempts">1 of 7, 1 failed</dd>' in retrying  # the worker's limit
    done = clients["github"].get(f"/dashboard/jobs/{ids.jobs.done}").text
    assert '<dd id="job-attempts">1 of 7, 0 failed</dd>' in done
    assert "None: the job has not failed." in done and f"/dashboard/runs/{ids.done}" in done


def test_no_jobs_page_shows_a_planted_secret(seeded):
    clients, ids = seeded
    jobs = [ids.jobs.dead, ids.jobs.retrying, ids.jobs.done, ids.jobs.queued]
    for path in ["/dashboard/jobs", *[f"/dashboard/jobs/{n}" for n in jobs]]:
        html = clients["github"].get(path).text
        for secret in PLANTED:
            assert secret not in html, (path, secret[:6])


@pytest.mark.parametrize(
    "path", ["/dashboard/jobs?state=failed", "/dashboard/jobs?before=0", "/dashboard/jobs/x"]
)
def test_bad_job_parameters_get_422(seeded, path):
    clients, _ = seeded
    assert clients["github"].get(path).status_code == 422


def test_an_unknown_job_is_a_404_page_and_the_nav_links_the_jobs(seeded):
    clients, _ = seeded
    answer = clients["github"].get("/dashboard/jobs/987654")
    assert answer.status_code == 404 and "no job 987654" in answer.text
    assert '<a href="/dashboard/jobs" >Jobs</a>' in clients["github"].get("/dashboard").text


def test_each_voters_calls_belong_to_the_vote_step_that_saved_the_result(seeded):
    """Voters ask under `vote-1.<role>`: those calls are the finished vote's, not five steps
    with "no result saved"."""
    clients, ids = seeded
    html = clients["github"].get(f"/dashboard/runs/{ids.done}").text
    sections = re.findall(r'<section class="step" id="step-([\w.-]+)">', html)
    assert sections[-1] == "vote-1" and not any("." in name for name in sections)
    vote = html.split('id="step-vote-1"', 1)[1].split("</section>", 1)[0]
    assert "no result saved" not in vote and "3 model calls" in vote
    for role, _, _ in VOTES:
        assert f"call 0 · {role} · " in vote


@pytest.mark.parametrize(
    ("client", "web"), [("github", "https://github.com"), ("ghe", "https://ghe.example.com")]
)
def test_a_runs_links_go_to_the_configured_github_host(seeded, client, web):
    clients, ids = seeded
    html = clients[client].get(f"/dashboard/runs/{ids.done}").text
    assert f'<a href="{web}/octo-org/hello">octo-org/hello</a>' in html
    assert f'<a href="{web}/octo-org/hello/issues/7">#7</a>' in html
    assert f'<a href="{web}/octo-org/hello/pull/12">#12</a>' in html
    if client == "ghe":
        assert "github.com" not in html
    local = clients[client].get(f"/dashboard/runs/{ids.failed}").text  # not on GitHub
    assert "octo-org/widgets</a>" not in local and "/issues/9" not in local
