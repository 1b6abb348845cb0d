"""POST /slack/* through slack-bolt with the corpus's real and shape samples."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.store.models import Delivery, Job
from bot.triggers.catalog import slack_acts_on
from tests.conftest import CORPUS, SLACK_SECRET, make_settings
from tests.support.signing import slack_headers
from tests.support.slack_samples import (
    SlackRequest,
    blank_app_backend_request,
    blank_event_request,
    command_request,
    event_request,
    interaction_request,
)
from tests.support.store import count_rows
from webhooks.app import create_app
from webhooks.slack import SlackSignature

SAMPLES = CORPUS / "slack" / "samples"
BOLT = SAMPLES / "bolt-python"


def _load(path: Path) -> SlackRequest:
    data = json.loads(path.read_text())
    if path.parent.name == "events":
        if path.parent.parent.name == "bolt-python":
            return event_request(data)
        return blank_event_request(path)
    if path.parent.name == "interactive":
        return interaction_request(data)
    if path.parent.name == "slash-commands":
        return command_request(data)
    return blank_app_backend_request(path)


ALL_SAMPLES = sorted(
    [
        *BOLT.glob("events/*.json"),
        *BOLT.glob("interactive/*.json"),
        *BOLT.glob("slash-commands/*.json"),
        *SAMPLES.glob("events/*.json"),
        *SAMPLES.glob("app-backend/*.json"),
    ]
)


def _send(client, request: SlackRequest, secret=SLACK_SECRET, timestamp=None, **headers):
    signed = slack_headers(secret, request.body, request.content_type, timestamp) | headers
    return client.post(request.path, content=request.body, headers=signed)


def _describe(request: SlackRequest) -> tuple[str, str]:
    from bot.triggers.slack_deliveries import parse_slack_body

    body = parse_slack_body(request.body.decode())
    if body.get("type") == "event_callback":
        return "event_callback", body["event"]["type"]
    if "command" in body:
        return "command", body["command"]
    return body["type"], ""


def _new_rows(engine, since_id: int) -> tuple[list[Delivery], list[Job]]:
    with engine.connect() as connection:
        deliveries = connection.execute(select(Delivery).where(Delivery.id > since_id)).all()
        ids = [d.id for d in deliveries]
        jobs = connection.execute(select(Job).where(Job.delivery_id.in_(ids))).all()
    return deliveries, jobs


def _last_id(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(Delivery.id).order_by(Delivery.id.desc())).scalar() or 0


def test_the_corpus_has_slack_samples(corpus):
    assert len(ALL_SAMPLES) > 100


@pytest.mark.parametrize("sample", ALL_SAMPLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_slack_sample_is_verified_stored_and_acknowledged(shared_intake, sample):
    client, engine = shared_intake
    request = _load(sample)
    before = _last_id(engine)

    assert _send(client, request, secret="wrong-secret").status_code == 401
    stale = int(time.time()) - 6 * 60
    assert _send(client, request, timestamp=stale).status_code == 401
    assert _new_rows(engine, before) == ([], [])

    response = _send(client, request)
    assert response.status_code == 200, response.text
    if b'"url_verification"' in request.body:
        assert response.json()["challenge"] == json.loads(request.body)["challenge"]
        assert _new_rows(engine, before) == ([], [])
        return

    kind, detail = _describe(request)
    deliveries, jobs = _new_rows(engine, before)
    assert len(deliveries) == 1
    assert (deliveries[0].source, deliveries[0].event, deliveries[0].action) == (
        "slack",
        kind,
        detail,
    )
    assert deliveries[0].payload == request.body.decode()
    assert len(jobs) == (1 if slack_acts_on(kind, detail) else 0)

    # Sent again (a Slack retry for events, a replay otherwise): nothing new is stored.
    again = _send(client, request, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "x"})
    assert again.status_code == 200
    assert _new_rows(engine, before) == (deliveries, jobs)


def test_an_event_retried_by_slack_is_queued_once(client, engine, corpus):
    envelope = json.loads((BOLT / "events" / "app_mention.01.json").read_text())
    request = event_request(envelope, event_id="Ev0RETRY")
    assert _send(client, request).status_code == 200
    for retry in ("1", "2", "3"):
        response = _send(client, request, **{"X-Slack-Retry-Num": retry})
        assert response.status_code == 200
    assert count_rows(engine) == (1, 1)


def test_slash_commands_are_acknowledged_ephemerally_and_queued(client, engine, corpus):
    fields = json.loads((BOLT / "slash-commands" / "command.01.json").read_text())
    response = _send(client, command_request(fields | {"command": "/crew", "text": "help"}))
    assert response.status_code == 200
    assert response.json()["response_type"] == "ephemeral"
    assert count_rows(engine) == (1, 1)


def test_unsubscribed_events_are_stored_but_not_queued(client, engine, corpus):
    envelope = json.loads((BOLT / "events" / "reaction_added.01.json").read_text())
    assert _send(client, event_request(envelope)).status_code == 200
    assert count_rows(engine) == (1, 0)


def test_missing_signature_headers_get_401(client, engine):
    response = client.post("/slack/events", content=b'{"type": "event_callback"}')
    assert response.status_code == 401
    assert count_rows(engine) == (0, 0)


def test_without_a_signing_secret_every_request_is_refused_with_503(engine, database_url):
    settings = make_settings(database_url, slack_signing_secret=None)
    request = event_request({"type": "event_callback", "event": {"type": "app_mention"}})
    with TestClient(create_app(settings, engine=engine)) as client:
        response = _send(client, request)
    assert response.status_code == 503
    assert "REPOCREW_SLACK_SIGNING_SECRET" in response.json()["error"]
    assert count_rows(engine) == (0, 0)


@pytest.mark.parametrize(
    ("path", "body", "content_type"),
    [
        ("/slack/events", b"{not json", "application/json"),
        ("/slack/events", b"[1, 2]", "application/json"),
        ("/slack/events", b"", "application/json"),
        ("/slack/interactions", b"payload=%7Bbad", "application/x-www-form-urlencoded"),
        ("/slack/commands", b"\xff\xfe", "application/x-www-form-urlencoded"),
    ],
    ids=["bad-json", "not-an-object", "empty", "bad-payload-field", "not-utf8"],
)
def test_malformed_signed_requests_get_400_and_unsigned_ones_401(
    client, engine, path, body, content_type
):
    signed = slack_headers(SLACK_SECRET, body, content_type)
    response = client.post(path, content=body, headers=signed)
    assert response.status_code == 400
    assert "malformed Slack payload" in response.json()["error"]
    unsigned = client.post(path, content=body, headers={"Content-Type": content_type})
    assert unsigned.status_code == 401
    assert count_rows(engine) == (0, 0)


class CountingSignature(SlackSignature):
    """The SDK's verifier, counting the checks it is asked for."""

    def __init__(self, signing_secret: str) -> None:
        super().__init__(signing_secret)
        self.checks = 0

    def is_valid(self, body, timestamp, signature) -> bool:
        self.checks += 1
        return super().is_valid(body, timestamp, signature)


def test_a_signed_request_six_minutes_old_gets_401_and_stores_nothing(client, engine, corpus):
    envelope = json.loads((BOLT / "events" / "app_mention.01.json").read_text())
    response = _send(client, event_request(envelope), timestamp=int(time.time()) - 6 * 60)
    assert response.status_code == 401
    assert "stale timestamp" in response.json()["error"]
    assert count_rows(engine) == (0, 0)


def test_the_signature_is_checked_once_and_not_again_by_bolt(engine, database_url, corpus):
    """The verifier passed in knows another secret than the settings: were bolt to check
    again, with the settings' secret, the request would be refused."""
    verifier = CountingSignature("only-the-endpoint-knows-this")
    envelope = json.loads((BOLT / "events" / "app_mention.01.json").read_text())
    request = event_request(envelope)
    app = create_app(make_settings(database_url), engine=engine, slack_verifier=verifier)
    with TestClient(app) as client:
        response = _send(client, request, secret="only-the-endpoint-knows-this")
        assert response.status_code == 200, response.text
        assert verifier.checks == 1
        assert count_rows(engine) == (1, 1)
        assert _send(client, request).status_code == 401  # the settings' secret: not ours
    assert verifier.checks == 2
    assert count_rows(engine) == (1, 1)


def test_a_blank_signing_secret_is_no_secret(engine, database_url):
    settings = make_settings(database_url, slack_signing_secret="  ")
    request = event_request({"type": "event_callback", "event": {"type": "app_mention"}})
    with TestClient(create_app(settings, engine=engine)) as client:
        response = _send(client, request, secret="  ")
    assert response.status_code == 503
    assert count_rows(engine) == (0, 0)
