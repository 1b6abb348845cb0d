"""Secrets are found in the forms they leak in, redacted everywhere, and ordinary code is left be.

Every token here is made at run time, so this file holds nothing a secret scanner would flag.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import random
import string
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.security.secrets import (
    RedactingFilter,
    SecretFinding,
    SecretLeak,
    SecretScanner,
    install_log_redaction,
    redact_json,
    scanner_for_settings,
)
from bot.settings import Settings

RNG = random.Random(1234)
ALNUM = string.ascii_letters + string.digits
UPPER, DIGITS = string.ascii_uppercase, string.digits
SECURITY = Path(__file__).resolve().parents[2] / "bot" / "security"


def _random(n: int, alphabet: str = ALNUM) -> str:
    return "".join(RNG.choice(alphabet) for _ in range(n))


def _b64url(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


GITHUB = "ghp_" + _random(36)
INSTALLATION = "ghs_" + _random(36)
PAT = f"github_pat_{_random(22)}_{_random(59)}"
SLACK_BOT = f"xoxb-{_random(12, DIGITS)}-{_random(13, DIGITS)}-{_random(24)}"
SLACK_APP = f"xapp-1-A{_random(10, UPPER)}-{_random(13, DIGITS)}-{_random(64, '0123456789abcdef')}"
SLACK_HOOK = (
    f"https://hooks.slack.com/services/T{_random(8, UPPER)}/B{_random(10, UPPER)}/{_random(24)}"
)
ANTHROPIC = f"sk-ant-api03-{_random(93, ALNUM + '-_')}AA"
OPENAI = f"sk-proj-{_random(48)}"
AWS_ID = "AKIA" + _random(16, UPPER + DIGITS)
AWS_SECRET = _random(40, ALNUM + "/+")
JWT = f"{_b64url({'alg': 'HS256', 'typ': 'JWT'})}.{_b64url({'sub': 'U1', 'exp': 1})}.{_random(43)}"
WEBHOOK_SECRET = "whs-" + _random(28, ALNUM + "@/+=&")  # shape of nothing: only known
LEGACY_INSTALLATION = "v1." + _random(40, "0123456789abcdef")  # looks like a SHA: only known

SHAPES = [
    ("github_token", GITHUB),
    ("github_token", INSTALLATION),
    ("github_token", PAT),
    ("slack_token", SLACK_BOT),
    ("slack_token", SLACK_APP),
    ("anthropic_key", ANTHROPIC),
    ("openai_key", OPENAI),
    ("aws_access_key_id", AWS_ID),
    ("jwt", JWT),
]


@pytest.fixture(scope="module")
def pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def _kinds(scanner: SecretScanner, text: str) -> list[str]:
    return [finding.kind for finding in scanner.find(text)]


@pytest.mark.parametrize(("kind", "token"), SHAPES)
def test_well_known_token_shapes_are_found_and_redacted_whole(kind, token):
    scanner = SecretScanner()
    text = f'config = {{"key": "{token}", "next": 1}}'
    assert _kinds(scanner, text) == [kind]
    assert scanner.redact(text) == f'config = {{"key": "[REDACTED:{kind}]", "next": 1}}'


@pytest.mark.parametrize(
    ("template", "secret", "kind"),
    [
        ("ok https://<S> done", SLACK_HOOK.removeprefix("https://"), "slack_webhook"),
        ("AWS_SECRET_ACCESS_KEY=<S>\n", AWS_SECRET, "aws_secret_key"),
        ("postgresql://app:<S>@db.prod.corp:5432/app", "Hunter2Hunter2", "url_credentials"),
        ("redis://:<S>@cache:6379/0", "S3cretPass", "url_credentials"),
        ("curl -H 'Authorization: Bearer <S>'", _random(20), "authorization_header"),
    ],
)
def test_secrets_known_by_their_context_are_redacted_in_place(template, secret, kind):
    redacted = SecretScanner().redact(template.replace("<S>", secret))
    assert redacted == template.replace("<S>", f"[REDACTED:{kind}]")


DIFF = f"""\
diff --git a/deploy.sh b/deploy.sh
index 3f78685..e4d2c1a 100755
--- a/deploy.sh
+++ b/deploy.sh
@@ -1,3 +1,4 @@
 #!/bin/sh
-export GITHUB_TOKEN="$1"
+export GITHUB_TOKEN="{GITHUB}"
+curl -sH "Authorization: Bearer {SLACK_BOT}" https://slack.com/api/auth.test
"""


def test_tokens_planted_in_a_diff_are_found_and_the_rest_is_untouched():
    scanner = SecretScanner()
    assert _kinds(scanner, DIFF) == ["github_token", "slack_token"]
    redacted = scanner.redact(DIFF)
    assert GITHUB not in redacted and SLACK_BOT not in redacted
    assert "index 3f78685..e4d2c1a 100755" in redacted
    assert '+export GITHUB_TOKEN="[REDACTED:github_token]"' in redacted


def test_a_token_minted_mid_run_is_found_in_a_git_remote_url():
    scanner = SecretScanner([WEBHOOK_SECRET])
    minted = f"minted {LEGACY_INSTALLATION}, expires 2024-06-11T11:00:00Z"
    assert scanner.find(minted) == []  # 40 hex look like a SHA: no pattern may flag them
    scanner.add_known(LEGACY_INSTALLATION)
    assert scanner.redact(minted) == "minted [REDACTED:known_secret], expires 2024-06-11T11:00:00Z"
    remote = f"https://x-access-token:{LEGACY_INSTALLATION}@github.com/octo/repo.git"
    assert scanner.redact(remote) == (
        "https://x-access-token:[REDACTED:url_credentials]@github.com/octo/repo.git"
    )
    shaped = f"https://x-access-token:{INSTALLATION}@github.com/octo/repo.git"
    assert scanner.redact(shaped).count("[REDACTED:github_token]") == 1  # the token names it


@pytest.mark.parametrize("prefix", ["", "a", "ab", "x-access-token:", '{"token": "'])
def test_known_values_are_found_base64_encoded_at_any_offset(prefix):
    token = "ghs_" + _random(30, ALNUM + "-_")  # emulator-style, with - and _
    scanner = SecretScanner([token])
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        blob = encode(f"{prefix}{token}\n".encode()).decode()
        text = f"git -c http.extraheader=X-Auth:{blob} fetch"
        assert _kinds(scanner, text) == ["known_secret"], (prefix, encode)
        assert token not in scanner.redact(text) and blob[8:-8] not in scanner.redact(text)


def test_known_values_are_found_url_and_json_encoded():
    scanner = SecretScanner([WEBHOOK_SECRET])
    url = f"https://hooks.example.net/relay?secret={quote(WEBHOOK_SECRET, safe='')}&x=1"
    assert _kinds(scanner, url) == ["known_secret"]
    assert _kinds(scanner, json.dumps({"secret": WEBHOOK_SECRET})) == ["known_secret"]


def test_short_and_empty_known_values_are_ignored():
    scanner = SecretScanner(["", "short", " \n  ", "1234567"])
    assert scanner.find("short 1234567 and more") == []


def test_a_private_key_is_found_whole_escaped_and_split_across_json_strings(pem):
    scanner, unknown = SecretScanner([pem]), SecretScanner()
    body_lines = [line for line in pem.splitlines() if "-----" not in line]
    assert scanner.redact(pem) == "[REDACTED:private_key]"  # the known value takes the newline
    assert unknown.redact(pem) == "[REDACTED:private_key]\n"
    escaped = json.dumps({"key": pem})
    assert unknown.redact(escaped) == '{"key": "[REDACTED:private_key]\\n"}'
    # Split mid-line across two strings: BEGIN in one, END in the other.
    parts = [pem[:700], pem[700:]]
    for scan in (scanner, unknown):
        assert redact_json(parts, scan) == ["[REDACTED:private_key]", "[REDACTED:private_key]\n"]
        redacted = scan.redact(json.dumps({"parts": parts}))
        assert not any(line[:12] in redacted for line in body_lines)
    # One body line alone, as a log line might carry it, is only known to the scanner that holds it.
    line = body_lines[5]
    assert _kinds(scanner, f"chunk: {line}") == ["known_secret"] and unknown.find(line) == []


PYTHON_FILE = '''\
"""Sync labels; see https://docs.github.com/rest for the xoxb-… scopes."""

import uuid

REVISION = "3f786850e387550fdab836ed7e6dc881de23001b"
RUN_ID = uuid.UUID("123e4567-e89b-12d3-a456-426614174000")
MARKER = "<!-- repocrew:run=12 step=plan -->"
HELLO = "aGVsbG8gd29ybGQ="  # base64 of a short string
DIGEST = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
ghs_installation_token_for_repository = None
CSS = "sk-button-primary-large-variant sk-learn-pipeline-config"
DEV_DB = "postgresql://postgres:postgres@localhost:5432/test"
DOCS_DB = "postgresql://user:password@db.example.com/app"


def remote(user: str, token: str, host: str) -> str:
    headers = {"Authorization": f"Bearer {token}", "X-Api-Key": "${API_KEY}"}
    return f"https://{user}:{token}@{host}/repo.git", headers


def test_sk_ant_keys_are_redacted_in_ghp_tokens_AKIA_case():
    assert "%s://%s:%s@%s" % ("https", "u", "p", "h")
'''

GIT_LOG = """\
commit 087179b5c2d1e0f4a3b6c9d8e7f6a5b4c3d2e1f0 (HEAD -> main, origin/main)
Author: Ada <ada@example.com>
Date:   Tue Jun 11 10:02:11 2024 +0200

    Tests: one shared module-scoped intake fixture instead of two identical copies

    Reviewed-on: https://github.com/octo/repocrew/pull/41
    Change-Id: I8a3c2e9f1b7d4c6e0a5f3b2d1c9e8f7a6b5c4d3e

commit 0bd8662e1f3a5c7b9d2e4f6a8c0b1d3e5f7a9c2b
Merge: 5416e9f 1239ef9
"""

PYTEST_OUTPUT = """\
============================= test session starts ==============================
platform linux -- Python 3.11.7, pytest-8.2.2, pluggy-1.5.0
rootdir: /work/main
configfile: pyproject.toml
collected 3 items

tests/unit/test_secrets.py::test_sk_ant_tokens_are_redacted PASSED       [ 33%]
tests/unit/test_secrets.py::test_ghp_tokens[ghp_short] FAILED            [ 66%]
tests/unit/test_config.py::test_defaults PASSED                          [100%]

E       AssertionError: assert 'ghp_short' == 'ghp_[REDACTED:github_token]'
E         - ghp_[REDACTED:github_token]
/tmp/pytest-of-root/pytest-12/test_ghp_tokens0/repo/.git/objects/9f/86d081884c7d659a2f
=========================== short test summary info ============================
FAILED tests/unit/test_secrets.py::test_ghp_tokens[ghp_short] - AssertionError
========================= 1 failed, 2 passed in 0.31s ==========================
"""


@pytest.mark.parametrize(
    "text",
    [PYTHON_FILE, GIT_LOG, PYTEST_OUTPUT, *(p.read_text() for p in sorted(SECURITY.glob("*.py")))],
)
def test_ordinary_code_logs_and_test_output_have_no_findings(text):
    assert SecretScanner([WEBHOOK_SECRET, GITHUB]).find(text) == []


def test_findings_and_leaks_never_carry_the_value():
    scanner = SecretScanner([WEBHOOK_SECRET])
    text = f"posting {GITHUB} and {WEBHOOK_SECRET}"
    findings = scanner.find(text)
    assert findings == [
        SecretFinding("github_token", 8, 8 + len(GITHUB)),
        SecretFinding("known_secret", 13 + len(GITHUB), len(text)),
    ]
    assert GITHUB not in repr(findings) and WEBHOOK_SECRET not in str(findings)
    with pytest.raises(SecretLeak) as caught:
        scanner.check_outgoing(text, where="PR #7 review comment")
    assert str(caught.value) == (
        "refused to send PR #7 review comment: it contains github_token, known_secret"
    )
    assert caught.value.where == "PR #7 review comment"
    assert caught.value.kinds == ("github_token", "known_secret")
    assert GITHUB not in repr(caught.value)
    scanner.check_outgoing(scanner.redact(text), where="PR #7 review comment")


def test_redaction_is_idempotent(pem):
    scanner = SecretScanner([WEBHOOK_SECRET, pem])
    text = "\n".join([DIFF, SLACK_HOOK, WEBHOOK_SECRET, pem, *(t for _, t in SHAPES)])
    once = scanner.redact(text)
    assert scanner.find(once) == [] and scanner.redact(once) == once
    assert all(token not in once for _, token in SHAPES)


@pytest.fixture
def stream_logger():
    log = logging.getLogger("tests.secrets.stream")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(logging.INFO)
    yield log, stream
    log.removeHandler(handler)


def test_log_records_are_formatted_then_redacted(stream_logger):
    log, stream = stream_logger
    install_log_redaction(SecretScanner([INSTALLATION]), log)
    log.info("token %s", INSTALLATION)
    log.info("minted %(token)s for %(repo)s", {"token": INSTALLATION, "repo": "octo/repo"})
    log.info("%d tokens", INSTALLATION)  # a bad format still logs, redacted
    output = stream.getvalue()
    assert INSTALLATION not in output
    assert "INFO token [REDACTED:github_token]\n" in output
    assert "INFO minted [REDACTED:github_token] for octo/repo\n" in output
    assert "INFO %d tokens ('[REDACTED:github_token]',)\n" in output


def test_a_traceback_holding_a_token_is_redacted(stream_logger):
    log, stream = stream_logger
    install_log_redaction(SecretScanner([WEBHOOK_SECRET]), log)
    try:
        raise RuntimeError(f"GitHub refused {GITHUB} (secret {WEBHOOK_SECRET})")
    except RuntimeError:
        log.exception("delivery %s failed", "d-1")
    log.info("where", stack_info=True)
    output = stream.getvalue()
    assert "Traceback (most recent call last)" in output
    assert (
        "RuntimeError: GitHub refused [REDACTED:github_token] (secret [REDACTED:known_secret])"
        in output
    )
    assert GITHUB not in output and WEBHOOK_SECRET not in output
    assert "Stack (most recent call last)" in output


def test_redaction_on_the_root_logger_covers_child_loggers(caplog):
    scanner = SecretScanner([ANTHROPIC])
    first = install_log_redaction(SecretScanner())
    redacting = install_log_redaction(scanner)  # replaces the first, never stacks
    try:
        handlers = logging.getLogger().handlers
        assert caplog.handler in handlers and isinstance(redacting, RedactingFilter)
        assert all(first not in h.filters and redacting in h.filters for h in handlers)
        with caplog.at_level(logging.INFO):
            logging.getLogger("bot.llm.client").warning("calling with key=%s", ANTHROPIC)
        assert ANTHROPIC not in caplog.text
        assert caplog.records[-1].getMessage() == "calling with key=[REDACTED:anthropic_key]"
    finally:
        for handler in logging.getLogger().handlers:
            handler.removeFilter(redacting)


def test_json_transcripts_are_redacted_throughout():
    transcript = {
        "run": 12,
        "messages": [
            {"role": "user", "content": f"the key is {OPENAI}"},
            {"role": "tool", "content": [{"type": "text", "text": DIFF}], "ok": True},
        ],
        GITHUB: None,
        "cost": 0.25,
    }
    redacted = redact_json(transcript, SecretScanner())
    dumped = json.dumps(redacted)
    assert OPENAI not in dumped and GITHUB not in dumped and SLACK_BOT not in dumped
    assert redacted["run"] == 12 and redacted["cost"] == 0.25
    assert redacted["messages"][1]["ok"] is True
    assert redacted["messages"][0]["content"] == "the key is [REDACTED:openai_key]"
    assert "[REDACTED:github_token]" in redacted


def test_the_scanner_for_the_settings_knows_every_secret(tmp_path, pem):
    key_path = tmp_path / "app.pem"
    key_path.write_text(pem)
    slack_secret = _random(32, "0123456789abcdef")
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        github_webhook_secret=WEBHOOK_SECRET,
        github_private_key_path=key_path,
        slack_bot_token=SLACK_BOT,
        slack_signing_secret=slack_secret,
        anthropic_api_key=ANTHROPIC,
    )
    scanner = scanner_for_settings(settings)
    for value in (WEBHOOK_SECRET, SLACK_BOT, slack_secret, ANTHROPIC, pem.splitlines()[3]):
        assert scanner.redact(f"x {value} y").startswith("x [REDACTED:"), value
    assert scanner_for_settings(Settings(_env_file=None)).find(PYTHON_FILE) == []  # type: ignore[call-arg]


def test_a_megabyte_scans_quickly(pem):
    scanner = SecretScanner([WEBHOOK_SECRET, LEGACY_INSTALLATION, pem])
    text = ((PYTHON_FILE + GIT_LOG + PYTEST_OUTPUT) * 400)[:1_000_000] + GITHUB
    started = time.perf_counter()
    assert _kinds(scanner, text) == ["github_token"]
    assert time.perf_counter() - started < 2  # a loose sanity bound, ~0.05 s in practice


def test_hostile_text_scans_in_linear_time():
    hostile = [
        '-----BEGIN RSA PRIVATE KEY-----"' * 3000,
        ("A" * 30 + "-----END RSA PRIVATE KEY-----") * 1500,
        "eyJ" * 30000,
        "://a:" * 20000,
        "Authorization: Bearer " * 4000,
        "sk-" * 30000,
        "xoxb-" * 20000,
    ]
    scanner = SecretScanner([WEBHOOK_SECRET])
    started = time.perf_counter()
    for text in hostile:
        scanner.find(text)
    assert time.perf_counter() - started < 2  # loose: ~0.1 s here, minutes when quadratic
