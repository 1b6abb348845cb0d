"""Signature checks, independent of any server."""

from __future__ import annotations

import hashlib
import hmac

from slack_sdk.signature import Clock

from webhooks.signatures import github_signature_valid
from webhooks.slack import SlackSignature

SECRET = b"s3cret"
BODY = b'{"zen": "Design for failure."}' * 200  # over 2 KiB: hashed in pieces


def _github(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()


def _slack(body: bytes, timestamp: int) -> str:
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(SECRET, base, hashlib.sha256).hexdigest()


def test_github_signature():
    assert github_signature_valid(SECRET, BODY, _github(BODY))
    assert not github_signature_valid(SECRET, BODY + b" ", _github(BODY))
    assert not github_signature_valid(b"other", BODY, _github(BODY))
    assert not github_signature_valid(SECRET, BODY, _github(BODY)[:-2])
    assert not github_signature_valid(SECRET, BODY, "sha1=" + "0" * 40)
    assert not github_signature_valid(SECRET, BODY, None)
    assert not github_signature_valid(SECRET, BODY, "sha256=ü")


class FixedClock(Clock):
    def __init__(self, now: float) -> None:
        self.at = now

    def now(self) -> float:
        return self.at


def slack_signature_valid(secret, body, timestamp, signature, now):
    """The endpoint's one check: slack_sdk's verifier, at a fixed time."""
    return SlackSignature(secret.decode(), clock=FixedClock(now)).is_valid(
        body, timestamp, signature
    )


def test_slack_signature_and_its_five_minute_window():
    now = 1_700_000_000
    assert slack_signature_valid(SECRET, BODY, str(now), _slack(BODY, now), now=now)
    assert slack_signature_valid(SECRET, BODY, str(now), _slack(BODY, now), now=now + 299)
    assert not slack_signature_valid(SECRET, BODY, str(now), _slack(BODY, now), now=now + 301)
    assert not slack_signature_valid(SECRET, BODY, str(now), _slack(BODY, now), now=now - 301)
    assert not slack_signature_valid(SECRET, BODY, str(now + 1), _slack(BODY, now), now=now)
    assert not slack_signature_valid(SECRET, BODY, "", _slack(BODY, now), now=now)
    assert not slack_signature_valid(SECRET, BODY, "12a", _slack(BODY, now), now=now)
    assert not slack_signature_valid(SECRET, b"\xff" + BODY, str(now), _slack(BODY, now), now=now)


def test_the_slack_check_says_no_where_the_sdk_would_raise():
    now = 1_700_000_000
    assert not slack_signature_valid(SECRET, BODY, None, _slack(BODY, now), now=now)
    assert not slack_signature_valid(SECRET, BODY, str(now), None, now=now)
    assert not slack_signature_valid(SECRET, BODY, "²", _slack(BODY, now), now=now)
    assert not slack_signature_valid(SECRET, BODY, str(now), "v0=ü", now=now)
    assert not slack_signature_valid(b"other", BODY, str(now), _slack(BODY, now), now=now)


def test_a_signed_body_that_is_not_utf8_is_still_signed():
    now, body = 1_700_000_000, b"\xff\xfe" + BODY
    assert slack_signature_valid(SECRET, body, str(now), _slack(body, now), now=now)
    assert not slack_signature_valid(SECRET, body, str(now), _slack(BODY, now), now=now)
