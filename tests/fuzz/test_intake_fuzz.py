"""Property tests on the intake: whatever arrives, the answer is a 4xx with a reason (or the 2xx
of a stored delivery), never a 5xx, and a refused request leaves no row behind.

One app and one SQLite store serve the whole module (hypothesis runs each test many times);
rows are counted before and after every request. Examples are derandomized, so CI sees the
same ones every time, and kept few enough that the module runs in seconds.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from bot.store.engine import make_engine
from tests.conftest import GITHUB_SECRET, SLACK_SECRET, make_settings
from tests.support.signing import github_headers, slack_headers
from tests.support.store import count_rows
from webhooks.app import create_app

LIMIT = 64 * 1024  # a small body limit, so "over the limit" is cheap to send
FUZZ = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

ascii_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)
content_types = st.sampled_from(
    [
        "application/json",
        "application/x-www-form-urlencoded",
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/json; charset=latin-1",
        "",
    ]
)


@pytest.fixture(scope="module")
def intake(tmp_path_factory) -> Iterator[tuple[TestClient, object]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'store.db'}"
    engine = make_engine(url)
    app = create_app(make_settings(url, max_webhook_bytes=LIMIT), engine=engine)
    with TestClient(app) as client:
        yield client, engine
    engine.dispose()


def _check(response, before: tuple[int, int], after: tuple[int, int]) -> None:
    """4xx with a JSON reason and nothing stored, or 2xx with at most one delivery stored."""
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.json()["error"]
        assert after == before, "a refused request left rows behind"
    else:
        assert after[0] - before[0] in (0, 1) and after[1] - before[1] in (0, 1)


def _post_github(intake, body: bytes, headers: dict) -> None:
    client, engine = intake
    before = count_rows(engine)
    response = client.post("/github/webhook", content=body, headers=headers)
    _check(response, before, count_rows(engine))
    return response


# -- GitHub -----------------------------------------------------------------------------------


@FUZZ
@given(body=st.binary(max_size=2000), headers=st.dictionaries(ascii_text, ascii_text, max_size=4))
def test_unsigned_github_deliveries_are_refused_401(intake, body, headers):
    headers = {k: v for k, v in headers.items() if k.strip() and k.lower() != "content-length"}
    response = _post_github(intake, body, headers)
    assert response.status_code in (400, 401)  # 400: a header httpx sent but the server refused


@FUZZ
@given(body=st.binary(max_size=2000), content_type=content_types)
def test_signed_bytes_are_a_400_unless_they_are_a_json_object(intake, body, content_type):
    headers = github_headers(GITHUB_SECRET, body, "issues", str(uuid.uuid4()))
    headers["Content-Type"] = content_type
    response = _post_github(intake, body, headers)
    assert response.status_code in (202, 400)


@FUZZ
@given(payload=json_values, event=ascii_text, delivery=ascii_text, form=st.booleans())
def test_signed_json_of_any_shape_and_odd_headers_never_get_a_5xx(
    intake, payload, event, delivery, form
):
    body = json.dumps(payload).encode()
    if form:
        body = urlencode({"payload": body.decode()}).encode()
    headers = github_headers(GITHUB_SECRET, body, event.strip(), delivery.strip())
    if form:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    response = _post_github(intake, body, headers)
    event, delivery = event.strip(), delivery.strip()
    if isinstance(payload, dict) and 0 < len(event) <= 64 and 0 < len(delivery) <= 128:
        assert response.status_code in (200, 202)  # 200: a ping, or the same id again
    else:
        assert response.status_code == 400


@FUZZ
@given(depth=st.integers(1, 20_000), kind=st.sampled_from(["[]", "{}"]))
def test_deep_nesting_is_a_400_or_stored_never_a_crash(intake, depth, kind):
    if kind == "{}":
        body = b'{"a":' * depth + b"1" + b"}" * depth
    else:
        body = b'{"x":' + b"[" * depth + b"]" * depth + b"}"
    headers = github_headers(GITHUB_SECRET, body, "issues", str(uuid.uuid4()))
    response = _post_github(intake, body, headers)
    assert response.status_code in (202, 400, 413)


@FUZZ
@given(size=st.integers(LIMIT - 200, LIMIT + 2000), chunked=st.booleans())
def test_giant_fields_over_the_limit_get_413(intake, size, chunked):
    body = json.dumps({"action": "opened", "big": "x" * size}).encode()
    headers = github_headers(GITHUB_SECRET, body, "issues", str(uuid.uuid4()))
    content = iter([body[i : i + 8192] for i in range(0, len(body), 8192)]) if chunked else body
    client, engine = intake
    before = count_rows(engine)
    response = client.post("/github/webhook", content=content, headers=headers)
    _check(response, before, count_rows(engine))
    assert response.status_code == (413 if len(body) > LIMIT else 202)


# -- Slack ------------------------------------------------------------------------------------


slack_paths = st.sampled_from(["/slack/events", "/slack/commands", "/slack/interactions"])
form_bodies = st.dictionaries(ascii_text, ascii_text, max_size=5).map(
    lambda d: urlencode(d).encode()
)


@FUZZ
@given(
    path=slack_paths,
    body=st.one_of(
        st.binary(max_size=1000), form_bodies, json_values.map(lambda v: json.dumps(v).encode())
    ),
    content_type=content_types,
    signed=st.booleans(),
)
def test_slack_garbage_is_a_4xx_or_an_acknowledged_delivery(
    intake, path, body, content_type, signed
):
    client, engine = intake
    headers = slack_headers(SLACK_SECRET if signed else "wrong-secret", body, content_type)
    before = count_rows(engine)
    response = client.post(path, content=body, headers=headers)
    _check(response, before, count_rows(engine))
    if not signed:
        assert response.status_code == 401


@FUZZ
@given(skew=st.one_of(st.integers(301, 10**9), st.integers(-(10**9), -301)), path=slack_paths)
def test_slack_requests_outside_the_five_minutes_are_401_even_signed(intake, skew, path):
    client, engine = intake
    body = urlencode({"command": "/crew", "text": "status"}).encode()
    headers = slack_headers(
        SLACK_SECRET, body, "application/x-www-form-urlencoded", int(time.time()) + skew
    )
    before = count_rows(engine)
    response = client.post(path, content=body, headers=headers)
    assert response.status_code == 401
    assert count_rows(engine) == before


# -- the documented API -----------------------------------------------------------------------


def test_the_openapi_endpoints_never_answer_5xx(intake):
    """schemathesis' cases for every documented operation the intake owns (the dashboard has
    its own tests), each sent through the app and checked with `not_a_server_error`."""
    client, _engine = intake
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        if re.match(r"^/(slack/|healthz|readyz)", result.ok().path)
    ]
    assert {op.path for op in operations} >= {"/slack/events", "/healthz"}
    for operation in operations:

        @settings(max_examples=10, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(case=operation.as_strategy())
        def check(case):
            case.call_and_validate(checks=[not_a_server_error])

        check()
