"""Who someone is on GitHub, proven through GitHub's OAuth (never a login someone typed).

`/crew link` proves a Slack user's account with the device flow; the dashboard signs people
in with the web flow. Both end in a `ProvenUser`: GitHub's numeric id (stable across renames)
and the login it had then (for display and for permission checks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

# The device flow's answers while polling, as GitHub names them (plus `granted`).
PollOutcome = Literal["granted", "pending", "slow_down", "expired", "denied", "failed"]


class OAuthFailed(Exception):
    """GitHub refused or could not be reached; the message is safe to show."""


@dataclass(frozen=True)
class ProvenUser:
    id: int
    login: str


@dataclass(frozen=True)
class DeviceCode:
    device_code: str  # a secret: whoever holds it may collect the token once it is approved
    user_code: str  # what the person types at `verification_uri`
    verification_uri: str
    expires_in: int
    interval: int


@dataclass(frozen=True)
class DevicePoll:
    outcome: PollOutcome
    user: ProvenUser | None = None  # with `granted`
    interval: int | None = None  # with `slow_down`: the new, longer interval
    detail: str = ""


class IdentityPort(Protocol):
    def start_device(self) -> DeviceCode: ...

    def poll_device(self, device_code: str) -> DevicePoll: ...

    def authorize_url(self, *, redirect_uri: str, state: str) -> str: ...

    def exchange_code(self, *, code: str, redirect_uri: str) -> ProvenUser: ...

    def current_login(self, user_id: int, installation_id: int) -> str | None:
        """The login of GitHub account `user_id` today (accounts are renamed; ids stay)."""
        ...

    def writer_somewhere(self, login: str) -> str | None:
        """A repository the App is installed on where `login` may write, if any."""
        ...
