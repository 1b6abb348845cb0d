"""The emulator's OAuth endpoints answer in GitHub's documented shapes ("Authorizing OAuth
apps"): form-encoded unless JSON or XML is asked for, errors as HTTP 200 with `error`, device
codes polled no faster than the interval, one token per grant, `GET /user` as the person."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import github
import httpx
import pytest

from emulators.github import GitHubEmulator, create_app
from emulators.server import running
from tests.support.identity import CLIENT_ID, CLIENT_SECRET, approve_device, oauth_app, signed_in

DEVICE = "urn:ietf:params:oauth:grant-type:device_code"
JSON = {"Accept": "application/json"}


@pytest.fixture
def hub() -> Iterator[tuple[GitHubEmulator, str]]:
    emulator = GitHubEmulator.with_defaults()
    emulator.add_user("reader", token="ghp_reader")
    oauth_app(emulator).callback_url = "http://app.example/callback"
    with running(create_app(emulator)) as url:
        emulator.base_url = url
        yield emulator, url


def test_the_device_code_answer_is_a_form_unless_json_is_asked(hub):
    _, url = hub
    form = httpx.post(f"{url}/login/device/code", data={"client_id": CLIENT_ID})
    assert form.headers["content-type"].startswith("application/x-www-form-urlencoded")
    fields = parse_qs(form.text)
    assert set(fields) == {"device_code", "user_code", "verification_uri", "expires_in", "interval"}
    answer = httpx.post(f"{url}/login/device/code", data={"client_id": CLIENT_ID}, headers=JSON)
    body = answer.json()
    assert body["verification_uri"] == f"{url}/login/device" and body["expires_in"] == 900
    assert len(body["device_code"]) == 40 and len(body["user_code"]) == 9
    xml = httpx.post(
        f"{url}/login/device/code",
        data={"client_id": "nobody"},
        headers={"Accept": "application/xml"},
    )
    assert xml.status_code == 200 and "<error>incorrect_client_credentials</error>" in xml.text


def test_the_device_flow_pending_slow_down_approved_then_used(hub):
    emulator, url = hub
    emulator.oauth.device_interval = 5
    code = httpx.post(
        f"{url}/login/device/code", data={"client_id": CLIENT_ID}, headers=JSON
    ).json()
    poll = {"client_id": CLIENT_ID, "device_code": code["device_code"], "grant_type": DEVICE}

    def token() -> dict:
        return httpx.post(f"{url}/login/oauth/access_token", data=poll, headers=JSON).json()

    assert token()["error"] == "authorization_pending"
    slow = token()
    assert slow["error"] == "slow_down" and slow["interval"] == 10
    assert (
        httpx.post(
            f"{url}/login/oauth/access_token", data={**poll, "grant_type": "password"}, headers=JSON
        ).json()["error"]
        == "unsupported_grant_type"
    )
    approve_device(url, "reader", code["user_code"])
    emulator.oauth.devices[code["device_code"]].last_poll = None  # the interval has passed
    granted = token()
    assert set(granted) == {"access_token", "token_type", "scope"}
    assert granted["access_token"].startswith("gho_") and granted["token_type"] == "bearer"
    assert token()["error"] == "incorrect_device_code"  # one token per code

    me = github.Github(base_url=url, auth=github.Auth.Token(granted["access_token"]))
    user = me.get_user()
    assert (user.login, user.id) == ("reader", emulator.users["reader"].id)
    me.close()


def test_a_cancelled_or_expired_code_says_so(hub):
    emulator, url = hub
    codes = [
        httpx.post(f"{url}/login/device/code", data={"client_id": CLIENT_ID}, headers=JSON).json()
        for _ in range(2)
    ]
    approve_device(url, "octocat", codes[0]["user_code"], authorize=False)
    emulator.oauth.devices[codes[1]["device_code"]].expires_at = 0
    errors = [
        httpx.post(
            f"{url}/login/oauth/access_token",
            data={"client_id": CLIENT_ID, "device_code": c["device_code"], "grant_type": DEVICE},
            headers=JSON,
        ).json()["error"]
        for c in codes
    ]
    assert errors == ["access_denied", "expired_token"]


def test_the_web_flow_signs_in_redirects_with_code_and_state_and_exchanges_once(hub):
    emulator, url = hub
    query = {"client_id": CLIENT_ID, "redirect_uri": "http://app.example/callback", "state": "s1"}
    anonymous = httpx.get(f"{url}/login/oauth/authorize", params=query)
    assert anonymous.status_code == 302 and "/login?return_to=" in anonymous.headers["location"]
    browser = signed_in(url, "octocat", follow_redirects=False)
    answer = browser.get("/login/oauth/authorize", params=query)
    browser.close()
    target = urlsplit(answer.headers["location"])
    assert (answer.status_code, target.netloc, target.path) == (302, "app.example", "/callback")
    back = parse_qs(target.query)
    assert back["state"] == ["s1"]
    exchange = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": back["code"][0]}
    form = httpx.post(f"{url}/login/oauth/access_token", data=exchange)
    assert parse_qs(form.text)["access_token"][0].startswith("gho_")
    again = httpx.post(f"{url}/login/oauth/access_token", json=exchange, headers=JSON).json()
    assert again["error"] == "bad_verification_code" and "error_uri" in again
    wrong = httpx.post(
        f"{url}/login/oauth/access_token", data={**exchange, "client_secret": "x"}, headers=JSON
    )
    assert wrong.json()["error"] == "incorrect_client_credentials"


def test_a_redirect_elsewhere_is_sent_back_to_the_registered_callback(hub):
    _, url = hub
    browser = signed_in(url, "octocat", follow_redirects=False)
    query = {"client_id": CLIENT_ID, "redirect_uri": "http://evil.example/", "state": "s"}
    answer = browser.get("/login/oauth/authorize", params=query)
    browser.close()
    assert answer.headers["location"].startswith(
        "http://app.example/callback?error=redirect_uri_mismatch"
    )


def test_get_user_needs_a_person(hub):
    _, url = hub
    assert httpx.get(f"{url}/user").status_code == 401
    assert (
        httpx.get(f"{url}/user", headers={"Authorization": "token ghp_octocat"}).json()["login"]
        == "octocat"
    )
