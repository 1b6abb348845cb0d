"""The dashboard's session cookie and post-login target, as pure functions."""

from __future__ import annotations

import hashlib

import pytest
from itsdangerous import TimestampSigner

from webhooks.dashboard.auth import (
    SESSION_SECONDS,
    new_session,
    safe_next,
    session_key,
    session_valid,
    token_matches,
)

KEY = session_key("a-dashboard-token-of-some-length")
NOW = 1_800_000_000.0


def test_a_session_we_signed_is_valid_until_it_expires():
    cookie = new_session(KEY, now=NOW)
    assert session_valid(KEY, cookie, now=NOW)
    assert session_valid(KEY, cookie, now=NOW + SESSION_SECONDS)
    assert not session_valid(KEY, cookie, now=NOW + SESSION_SECONDS + 1)
    assert not session_valid(KEY, cookie, now=NOW - 60)  # issued in the future


def test_a_new_token_ends_every_session():
    cookie = new_session(KEY, now=NOW)
    assert not session_valid(session_key("another-dashboard-token-value"), cookie, now=NOW)


@pytest.mark.parametrize(
    "cookie",
    [None, "", "v1", "v1.1.2.3", "v2.1800000000.00", "v1.abc.00", "v1.1800000000.deadbeef"],
)
def test_malformed_or_forged_cookies_are_refused(cookie):
    assert not session_valid(KEY, cookie, now=NOW)


def test_a_cookie_with_a_changed_time_is_refused():
    _, _, signature = new_session(KEY, now=NOW).split(".")
    _, later, _ = new_session(KEY, now=NOW + 3600).split(".")  # itsdangerous' time encoding
    assert not session_valid(KEY, f"v1.{later}.{signature}", now=NOW + 3600)


def test_a_signature_from_another_scheme_is_refused():
    token = "a-dashboard-token-of-some-length"
    signed_with_the_token = TimestampSigner(token, digest_method=hashlib.sha256).sign("v1")
    assert not session_valid(KEY, signed_with_the_token.decode(), now=NOW)
    another_salt = TimestampSigner(KEY, salt="x", key_derivation="hmac").sign("v1")
    assert not session_valid(KEY, another_salt.decode(), now=NOW)


def test_a_tampered_signature_or_value_is_refused():
    cookie = new_session(KEY, now=NOW)
    version, issued, signature = cookie.split(".")
    # The first character: base64's last one may carry only padding bits.
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    assert not session_valid(KEY, f"{version}.{issued}.{flipped}", now=NOW)
    assert not session_valid(KEY, f"v2.{issued}.{signature}", now=NOW)
    assert "a-dashboard-token" not in cookie


def test_the_token_is_compared_whole():
    assert token_matches(" a-dashboard-token \n", "a-dashboard-token")
    assert not token_matches("a-dashboard-toke", "a-dashboard-token")
    assert not token_matches("", "a-dashboard-token")


@pytest.mark.parametrize(
    ("target", "goes_to"),
    [
        (None, "/dashboard"),
        ("/dashboard/runs/3", "/dashboard/runs/3"),
        ("/dashboard/team?days=3", "/dashboard/team?days=3"),
        ("/dashboardx", "/dashboard"),
        ("/healthz", "/dashboard"),
        ("https://evil.example/dashboard", "/dashboard"),
        ("//evil.example/dashboard", "/dashboard"),
        ("/\\evil.example", "/dashboard"),
    ],
)
def test_after_login_only_dashboard_paths_are_followed(target, goes_to):
    assert safe_next(target) == goes_to
