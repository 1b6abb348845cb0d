"""Is the GitHub App usable: do its id and key belong together, and where is it installed?

`repocrew doctor` asks this with the App's JWT (`GET /app/installations`) and no retries; the
failures are ours, so the operator's tools never see PyGithub's or requests' exceptions.
"""

from __future__ import annotations

import github
import jwt
import requests
from github import Auth


class AppCheckFailed(Exception):
    """Why the App could not be checked; `kind` is refused, unreachable or bad_key."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


def installation_accounts(
    *, app_id: int, private_key: str, api_url: str, timeout: float
) -> list[str]:
    """The account logins the App is installed on (raises AppCheckFailed)."""
    integration = github.GithubIntegration(
        auth=Auth.AppAuth(app_id, private_key), base_url=api_url, timeout=timeout, retry=0
    )
    try:
        return [
            installation.raw_data["account"]["login"]
            for installation in integration.get_installations()
        ]
    except github.GithubException as error:
        message = error.data.get("message") if isinstance(error.data, dict) else error.data
        raise AppCheckFailed("refused", f"{error.status} {message}") from None
    except requests.RequestException as error:
        raise AppCheckFailed("unreachable", str(error)) from None
    except (jwt.PyJWTError, ValueError):  # the key text is not a usable private key
        raise AppCheckFailed("bad_key", "not a PEM RSA private key") from None
    finally:
        integration.close()
