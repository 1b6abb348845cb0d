"""GitHub's OAuth for people: the device flow (`/crew link`), the web flow (dashboard sign-in),
`GET /user` with the person's token, and whether they may write where the App is installed.

The OAuth endpoints live on GitHub's web host (`REPOCREW_GITHUB_WEB_URL`), not the API; they
answer HTTP 200 with an `error` field when they refuse, so every answer is read for one. The
person's token is used for `GET /user` and then dropped: repocrew keeps who they are, never
their token. Tokens and device codes are secrets: nothing here logs them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import github
import requests
from github import Auth, GithubException

from bot.github.client import GitHubApps
from bot.ports.identity import DeviceCode, DevicePoll, OAuthFailed, ProvenUser
from bot.settings import Settings

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
POLL_OUTCOMES = {
    "authorization_pending": "pending",
    "slow_down": "slow_down",
    "expired_token": "expired",
    "access_denied": "denied",
}
WRITE = ("admin", "maintain", "write")
SCOPE = ""  # no scope: the token can read the person's public profile and nothing else


@dataclass
class GitHubOAuth:
    """The OAuth App's side of both flows, and the App's view of where people may write."""

    client_id: str
    client_secret: str | None = field(repr=False)
    web_url: str
    api_url: str
    apps: GitHubApps | None = None  # the App, for `writer_somewhere`
    timeout: float = 15.0

    @classmethod
    def from_settings(cls, settings: Settings, apps: GitHubApps | None) -> GitHubOAuth | None:
        if not settings.github_oauth_client_id:
            return None
        secret = settings.github_oauth_client_secret
        return cls(
            client_id=settings.github_oauth_client_id,
            client_secret=secret.get_secret_value() if secret is not None else None,
            web_url=settings.github_web_url.rstrip("/"),
            api_url=settings.github_api_url,
            apps=apps,
        )

    def _post(self, path: str, fields: dict[str, str]) -> dict[str, Any]:
        try:
            response = requests.post(
                f"{self.web_url}{path}",
                data=fields,
                headers={"Accept": "application/json"},
                timeout=self.timeout,
            )
            response.raise_for_status()
            answer = response.json()
        except (requests.RequestException, ValueError) as error:
            raise OAuthFailed(f"GitHub's {path} did not answer: {type(error).__name__}") from None
        if not isinstance(answer, dict):
            raise OAuthFailed(f"GitHub's {path} answered something unexpected")
        return answer

    def start_device(self) -> DeviceCode:
        answer = self._post("/login/device/code", {"client_id": self.client_id, "scope": SCOPE})
        if "error" in answer:
            raise OAuthFailed(f"GitHub refused the device flow: {answer['error']}")
        try:
            return DeviceCode(
                device_code=str(answer["device_code"]),
                user_code=str(answer["user_code"]),
                verification_uri=str(answer["verification_uri"]),
                expires_in=int(answer["expires_in"]),
                interval=int(answer["interval"]),
            )
        except (KeyError, ValueError):
            raise OAuthFailed("GitHub's device code answer lacks a field") from None

    def poll_device(self, device_code: str) -> DevicePoll:
        fields = {
            "client_id": self.client_id,
            "device_code": device_code,
            "grant_type": DEVICE_GRANT,
        }
        answer = self._post("/login/oauth/access_token", fields)
        error = answer.get("error")
        if error is None and answer.get("access_token"):
            return DevicePoll("granted", user=self.user_of(str(answer["access_token"])))
        outcome = POLL_OUTCOMES.get(str(error))
        if outcome is None:
            return DevicePoll("failed", detail=str(error or "no token"))
        interval = answer.get("interval")
        return DevicePoll(outcome, interval=int(interval) if interval is not None else None)

    def authorize_url(self, *, redirect_uri: str, state: str) -> str:
        query = {"client_id": self.client_id, "redirect_uri": redirect_uri, "state": state}
        return f"{self.web_url}/login/oauth/authorize?{urlencode({**query, 'scope': SCOPE})}"

    def exchange_code(self, *, code: str, redirect_uri: str) -> ProvenUser:
        if self.client_secret is None:
            raise OAuthFailed("signing in needs REPOCREW_GITHUB_OAUTH_CLIENT_SECRET")
        fields = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "code": code,
            "redirect_uri": redirect_uri,
        }
        answer = self._post("/login/oauth/access_token", fields)
        if not answer.get("access_token"):
            raise OAuthFailed(f"GitHub refused the sign-in: {answer.get('error', 'no token')}")
        return self.user_of(str(answer["access_token"]))

    def user_of(self, token: str) -> ProvenUser:
        """`GET /user` as the person: who the token belongs to."""
        client = github.Github(auth=Auth.Token(token), base_url=self.api_url, timeout=15, retry=0)
        try:
            me = client.get_user()
            return ProvenUser(id=int(me.id), login=str(me.login))
        except (GithubException, requests.RequestException) as error:
            raise OAuthFailed(f"GitHub's GET /user failed: {type(error).__name__}") from None
        finally:
            client.close()

    def current_login(self, user_id: int, installation_id: int) -> str | None:
        """The login GitHub's account `user_id` has now (`GET /user/{id}`, as the App's
        installation); None if GitHub knows no such account."""
        if self.apps is None:
            raise OAuthFailed("looking accounts up needs the GitHub App")
        client = self.apps.main.installation(installation_id)
        try:
            return str(client.github.get_user_by_id(user_id).login)
        except github.UnknownObjectException:
            return None
        except (GithubException, requests.RequestException) as error:
            raise OAuthFailed(f"GitHub's GET /user/{user_id} failed: {error}") from None

    def writer_somewhere(self, login: str) -> str | None:
        """The first repository (of the App's installations, 100 per installation) where
        `login` has write, maintain or admin, by the collaborator-permission API."""
        if self.apps is None:
            return None
        main = self.apps.main
        for installation in main.tokens.installation_ids():
            client = main.installation(installation)
            _, data = client.github.requester.requestJsonAndCheck(
                "GET", "/installation/repositories", parameters={"per_page": 100}
            )
            for repo in data.get("repositories", []):
                if client.permission_of(repo["full_name"], login) in WRITE:
                    return str(repo["full_name"])
        return None
