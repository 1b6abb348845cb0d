"""POST /github/webhook with every example payload GitHub documents, signed and mis-signed."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.store.models import Delivery, Job
from bot.triggers.catalog import github_acts_on
from tests.conftest import CORPUS, GITHUB_SECRET, make_settings
from tests.support.signing import github_headers
from tests.support.store import count_rows
from webhooks.app import create_app

EXAMPLES = sorted((CORPUS / "github-webhooks" / "examples").glob("*/*.json"))


def _example_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name.removesuffix('.payload.json')}"


def _post(client, body: bytes, event: str, delivery: str, secret: str = GITHUB_SECRET, **extra):
    headers = github_headers(secret, body, event, delivery) | extra
    return client.post("/github/webhook", content=body, headers=headers)


def test_the_corpus_has_examples(corpus):
    assert len(EXAMPLES) > 100


def _rows_for(engine, delivery: str) -> tuple[list[Delivery], list[Job]]:
    with engine.connect() as connection:
        deliveries = connection.execute(
            select(Delivery).where(Delivery.delivery_id == delivery)
        ).all()
        jobs = connection.execute(
            select(Job).join(Delivery).where(Delivery.delivery_id == delivery)
        ).all()
    return deliveries, jobs


@pytest.mark.parametrize("example", EXAMPLES, ids=_example_id)
def test_every_github_example_is_accepted_once_and_refused_unsigned(shared_intake, example):
    client, engine = shared_intake
    body = example.read_bytes()
    event = example.parent.name
    action = json.loads(body).get("action") or ""
    delivery = str(uuid.uuid4())

    refused = _post(client, body, event, delivery, secret="not-the-secret")
    assert refused.status_code == 401
    assert _rows_for(engine, delivery) == ([], [])

    first = _post(client, body, event, delivery)
    acted_on = github_acts_on(event, action)
    if event == "ping":
        assert first.status_code == 200
    else:
        assert first.status_code == 202, first.text
        assert first.json()["status"] == ("queued" if acted_on else "ignored")
    deliveries, jobs = _rows_for(engine, delivery)
    assert (len(deliveries), len(jobs)) == (1, 1 if acted_on else 0)
    stored = deliveries[0]
    assert stored.payload == body.decode()
    assert (stored.source, stored.event, stored.action) == ("github", event, action)

    again = _post(client, body, event, delivery)
    assert again.status_code == 200
    assert again.json()["status"] in ("duplicate", "pong")
    deliveries, jobs = _rows_for(engine, delivery)
    assert (len(deliveries), len(jobs)) == (1, 1 if acted_on else 0)


def test_corpus_covers_both_acted_on_and_ignored_events(corpus):
    outcomes = {
        github_acts_on(p.parent.name, json.loads(p.read_bytes()).get("action") or "")
        for p in EXAMPLES
    }
    assert outcomes == {True, False}


def test_the_job_points_at_its_delivery(client, engine):
    body = json.dumps({"action": "labeled", "issue": {"number": 7}}).encode()
    assert _post(client, body, "issues", "d-1").status_code == 202
    with engine.connect() as connection:
        delivery = connection.execute(select(Delivery)).one()
        job = connection.execute(select(Job)).one()
    assert (job.kind, job.delivery_id, job.status) == ("github.event", delivery.id, "queued")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Hub-Signature-256": "sha256=" + "0" * 64},
        {"X-Hub-Signature-256": "sha256=abc"},
        {"X-Hub-Signature-256": "sha1=0123456789abcdef0123456789abcdef01234567"},
    ],
    ids=["missing", "wrong", "truncated", "sha1-only"],
)
def test_bad_signatures_get_401_and_store_nothing(client, engine, headers):
    body = b'{"action": "opened"}'
    base = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": "d-2"}
    response = client.post("/github/webhook", content=body, headers=base | headers)
    assert response.status_code == 401
    assert count_rows(engine) == (0, 0)


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"not json", "not valid JSON"), (b"[1, 2]", "not an object"), (b"\xff\xfe", "JSON")],
)
def test_malformed_payloads_get_400_with_a_reason(client, engine, body, reason):
    response = _post(client, body, "issues", "d-3")
    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert count_rows(engine) == (0, 0)


def test_missing_headers_get_400(client, engine):
    body = b"{}"
    headers = github_headers(GITHUB_SECRET, body, "issues", "d-4")
    del headers["X-GitHub-Delivery"]
    assert client.post("/github/webhook", content=body, headers=headers).status_code == 400
    headers = github_headers(GITHUB_SECRET, body, "issues", "d-4")
    del headers["X-GitHub-Event"]
    assert client.post("/github/webhook", content=body, headers=headers).status_code == 400
    assert count_rows(engine) == (0, 0)


def test_form_encoded_deliveries_are_read_from_the_payload_field(client, engine):
    from urllib.parse import urlencode

    body = urlencode({"payload": json.dumps({"action": "created", "comment": {}})}).encode()
    headers = github_headers(GITHUB_SECRET, body, "issue_comment", "d-5")
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    response = client.post("/github/webhook", content=body, headers=headers)
    assert response.status_code == 202
    assert count_rows(engine) == (1, 1)


def test_oversized_body_gets_413_before_anything_is_stored(client, engine, settings):
    body = b"x" * (settings.max_webhook_bytes + 1)
    assert _post(client, body, "issues", "d-6").status_code == 413
    assert count_rows(engine) == (0, 0)


def test_other_methods_get_405(client):
    assert client.get("/github/webhook").status_code == 405
    assert client.put("/github/webhook", content=b"{}").status_code == 405


def test_without_a_secret_every_delivery_is_refused_with_503(engine, database_url):
    settings = make_settings(database_url, github_webhook_secret=None)
    with TestClient(create_app(settings, engine=engine)) as client:
        response = _post(client, b"{}", "issues", "d-7")
    assert response.status_code == 503
    assert "REPOCREW_GITHUB_WEBHOOK_SECRET" in response.json()["error"]
    assert count_rows(engine) == (0, 0)


@pytest.mark.parametrize(
    "payload",
    [
        {"action": 7, "installation": {"id": "nope"}},
        {"action": "x" * 500, "installation": {"id": 2**70}},
        {"installation": None, "nested": [[[[[[[[[[[]]]]]]]]]]]},
        {"action": "opened", "text": "\u0000 \ud7ff emoji \U0001f600"},
    ],
    ids=["wrong-types", "overlong", "nested", "odd-characters"],
)
def test_odd_but_signed_payloads_never_get_a_5xx(client, engine, payload):
    body = json.dumps(payload).encode()
    response = _post(client, body, "issues", str(uuid.uuid4()))
    assert response.status_code == 202
    assert count_rows(engine)[0] == 1


def test_json_nested_too_deep_is_a_400(client, engine):
    body = b"[" * 5000 + b"]" * 5000
    response = _post(client, body, "issues", "deep")
    assert response.status_code == 400
    assert count_rows(engine) == (0, 0)
