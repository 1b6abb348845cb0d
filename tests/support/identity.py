"""Playing a person on GitHub's web side of the emulator: signing in, approving a device code,
following a web sign-in. Over real HTTP, as a browser would (httpx, no JavaScript)."""

from __future__ import annotations

import re
import time

import httpx

from emulators.github import GitHubEmulator
from emulators.github.oauth import OAuthApp

USER_CODE = re.compile(r"`([0-9A-Z]{4}-[0-9A-Z]{4})`")
CLIENT_ID, CLIENT_SECRET = "Ov23liEmulatorClient", "emulator-oauth-client-secret-0001"


def oauth_app(hub: GitHubEmulator) -> OAuthApp:
    """repocrew's OAuth App on the emulator; device codes may be polled every second."""
    hub.oauth.device_interval = 1
    return hub.oauth.add_app("repocrew", client_id=CLIENT_ID, client_secret=CLIENT_SECRET)


def signed_in(hub_url: str, login: str, **options) -> httpx.Client:
    """A browser signed in to the emulated github.com as `login` (redirects followed)."""
    options = {"follow_redirects": True, "timeout": 15, **options}
    browser = httpx.Client(base_url=hub_url, **options)
    answer = browser.post("/session", data={"login": login, "password": "x"})
    assert answer.status_code in (200, 302), answer.text
    return browser


def user_code_in(text: str) -> str:
    found = USER_CODE.search(text)
    assert found, f"no user code in {text!r}"
    return found.group(1)


def approve_device(hub_url: str, login: str, user_code: str, *, authorize: bool = True) -> None:
    """`login` opens the verification page, enters `user_code` and authorizes (or cancels)."""
    browser = signed_in(hub_url, login)
    try:
        assert browser.get("/login/device").status_code == 200
        answer = browser.post(
            "/login/device", data={"user_code": user_code, "authorize": "1" if authorize else "0"}
        )
        assert answer.status_code == 200, answer.text
    finally:
        browser.close()


def told(chat, user: str) -> list[str]:
    """What the Slack emulator's `user` was told privately, oldest first."""
    return [e.text for e in chat.workspace.ephemerals if e.user == user]


def _wait(check, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def prove_link(world, login: str, *, user: str = "U0001", channel: str = "#crew") -> None:
    """Slack user `user` runs `/crew link`, approves the code on GitHub as `login`, and waits
    for the crew to confirm the link (the device flow through both emulators, over HTTP)."""
    before = len(told(world.chat, user))
    answer = world.chat.send_command("link", user=user, channel=channel)
    assert answer.status_code == 200, answer.text
    text = _wait(
        lambda: next((t for t in told(world.chat, user)[before:] if "`" in t), None), "the code"
    )
    approve_device(world.hub_url, login, user_code_in(text))
    _wait(
        lambda: any(f"you are @{login}" in t for t in told(world.chat, user)[before:]),
        f"the link to @{login}",
    )
