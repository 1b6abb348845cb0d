"""Requests from Slack to the app: slash commands, Events API callbacks and interactions, signed."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
PATHS = {
    "command": "/slack/commands",
    "event": "/slack/events",
    "interaction": "/slack/interactions",
}


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`, as Slack signs every request."""
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, content_type: str, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": content_type,
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": signature(secret, timestamp, body),
    }


def command_body(fields: dict) -> bytes:
    """Slash commands arrive form-encoded, every value a string, in Slack's field order."""
    return urlencode({key: str(value) for key, value in fields.items()}).encode()


def interaction_body(payload: dict) -> bytes:
    """Interactive requests arrive form-encoded with one field, `payload`, holding JSON."""
    return urlencode({"payload": json.dumps(payload)}).encode()


def event_body(envelope: dict) -> bytes:
    return json.dumps(envelope).encode()


@dataclass(frozen=True)
class Delivery:
    """One request the emulator sent, kept so an event can be re-sent as Slack's retries are."""

    kind: str
    path: str
    body: bytes
    content_type: str
    retry_num: int = 0
    retry_reason: str | None = None


@dataclass
class Outbound:
    """Sends deliveries to `app_url` (the app's base URL) signed with `signing_secret`."""

    app_url: str
    signing_secret: str
    timeout: float = 10.0

    def send(self, delivery: Delivery, *, timestamp: int | None = None) -> httpx.Response:
        timestamp = int(time.time()) if timestamp is None else timestamp
        headers = signed_headers(
            self.signing_secret, delivery.body, delivery.content_type, timestamp
        )
        if delivery.retry_num:
            # Slack's retry headers: the attempt number and why the last attempt failed.
            headers["X-Slack-Retry-Num"] = str(delivery.retry_num)
            headers["X-Slack-Retry-Reason"] = delivery.retry_reason or "http_timeout"
        url = self.app_url.rstrip("/") + delivery.path
        with httpx.Client(timeout=self.timeout) as client:
            return client.post(url, content=delivery.body, headers=headers)
