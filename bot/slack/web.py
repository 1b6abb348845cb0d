"""One Slack Web API call through slack_sdk, its errors sorted into the port's three kinds,
and the paged listings (`conversations.history` / `.replies`) the outbox reads back."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web import SlackResponse

from bot.observability.calls import count_slack_calls
from bot.ports.slack import RateLimited, Rejected, Unavailable

# Errors Slack documents as "try again": the message itself is fine.
TRANSIENT = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}
)
PAGE = 200  # messages per page of a listing


@count_slack_calls
def call(method: Callable[..., SlackResponse], **kwargs: Any) -> SlackResponse:
    """One Web API call, with slack_sdk's errors turned into the port's."""
    try:
        return method(**{key: value for key, value in kwargs.items() if value is not None})
    except SlackApiError as error:
        response = error.response
        if response.status_code == 429:
            raise RateLimited(retry_after(response.headers)) from error
        data = response.data if isinstance(response.data, dict) else {}
        code = str(data.get("error") or f"http_{response.status_code}")
        if response.status_code >= 500 or code in TRANSIENT:
            raise Unavailable(code) from error
        detail = {key: str(data[key]) for key in ("needed", "provided") if key in data}
        raise Rejected(code, detail) from error
    except (SlackRequestError, OSError) as error:  # URLError and timeouts are OSErrors
        raise Unavailable(f"{type(error).__name__}: {error}") from error


def retry_after(headers: Mapping[str, Any]) -> float:
    value = headers.get("Retry-After") or headers.get("retry-after") or "1"
    if isinstance(value, list):
        value = value[0]
    try:
        return max(0.0, float(value))
    except ValueError:
        return 1.0


def header(response: SlackResponse, name: str) -> str | None:
    """A response header, whatever its case (HTTP/2 sends them lower-case)."""
    for key, value in (response.headers or {}).items():
        if key.lower() == name:
            return str(value[0] if isinstance(value, list) else value)
    return None


def messages(
    method: Callable[..., SlackResponse], channel: str, **args: Any
) -> Iterator[Mapping[str, Any]]:
    """Every message of a conversations.history/replies listing, metadata included, page by
    page (Slack returns message metadata only when `include_all_metadata` is set)."""
    cursor = None
    while True:
        page = call(
            method, channel=channel, include_all_metadata=True, limit=PAGE, cursor=cursor, **args
        )
        yield from page.get("messages") or []
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return
