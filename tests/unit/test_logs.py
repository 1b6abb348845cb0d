"""Structured logs: valid JSON per line, the context's ids on it, and no secret in it."""

from __future__ import annotations

import contextvars
import io
import json
import logging
import random
import string
import threading
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.observability.logs import (
    CORE_FIELDS,
    JsonFormatter,
    choose_format,
    configure_logging,
    current_context,
    log_context,
)
from bot.security.secrets import SecretScanner
from bot.settings import Settings

RNG = random.Random(7)
ALNUM = string.ascii_letters + string.digits


def _random(n: int, alphabet: str = ALNUM) -> str:
    return "".join(RNG.choice(alphabet) for _ in range(n))


GITHUB = "ghp_" + _random(36)
SLACK = f"xoxb-{_random(12, string.digits)}-{_random(13, string.digits)}-{_random(24)}"
ANTHROPIC = f"sk-ant-api03-{_random(93, ALNUM + '-_')}AA"
WEBHOOK_SECRET = "whs-" + _random(28)  # the shape of nothing: redacted because it is known


@pytest.fixture(scope="module")
def pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    """The root logger, restored afterwards (configure_logging changes the process's)."""
    loggers = [
        logging.getLogger(name) for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access")
    ]
    saved = [(list(logger.handlers), logger.level, logger.propagate) for logger in loggers]
    yield loggers[0]
    for logger, (handlers, level, propagate) in zip(loggers, saved, strict=True):
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


def _configure(log_format: str, *known: str) -> io.StringIO:
    stream = io.StringIO()
    configure_logging(
        level="DEBUG", log_format=log_format, scanner=SecretScanner(known), stream=stream
    )
    return stream


def _secrets(pem: str) -> list[str]:
    body = [line for line in pem.splitlines() if "-----" not in line]
    return [GITHUB, SLACK, ANTHROPIC, WEBHOOK_SECRET, *body]


def _leak_everywhere(pem: str) -> None:
    """Every way a secret reaches a log line: message, args, traceback, extra and context."""
    log = logging.getLogger("repocrew.test")
    with log_context(delivery_id=f"d-{GITHUB}", run_id=7, role="coder", installation_id=3):
        log.info("token %s and key\n%s", GITHUB, pem)
        log.warning(f"slack said no to {SLACK}", extra={"header": f"Bearer {ANTHROPIC}"})
        log.error("secret %(secret)s", {"secret": WEBHOOK_SECRET})
        try:
            raise RuntimeError(f"the API refused {ANTHROPIC} with {pem}")
        except RuntimeError:
            log.exception("call failed")
        log.info("where", stack_info=True)


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_no_secret_reaches_the_stream_in_any_field(root_logger, pem, log_format):
    stream = _configure(log_format, WEBHOOK_SECRET)
    _leak_everywhere(pem)
    output = stream.getvalue()
    assert output.count("[REDACTED:") >= 8
    leaked = [secret[:12] for secret in _secrets(pem) if secret in output]
    assert leaked == []
    escaped = json.dumps(output)  # nor in JSON-escaped form (a PEM's "\n")
    assert not [
        s for s in (GITHUB, SLACK, ANTHROPIC, pem.strip()) if json.dumps(s)[1:-1] in escaped
    ]
    assert "call failed" in output and "RuntimeError" in output  # the traceback is there


def test_each_json_line_is_an_object_with_the_context_and_the_exception(root_logger, pem):
    stream = _configure("json", WEBHOOK_SECRET)
    _leak_everywhere(pem)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 5
    for line in lines:
        assert {"ts", "level", "logger", "message", *CORE_FIELDS} <= set(line)
        assert line["logger"] == "repocrew.test"
        assert (line["run_id"], line["role"], line["installation_id"]) == (7, "coder", 3)
        assert line["delivery_id"] == "d-[REDACTED:github_token]"
    assert lines[0]["message"].startswith("token [REDACTED:github_token] and key\n[REDACTED:")
    assert lines[1]["header"] == "Bearer [REDACTED:anthropic_key]"
    assert lines[1]["level"] == "WARNING"
    assert lines[2]["message"] == "secret [REDACTED:known_secret]"
    failed = lines[3]
    assert failed["message"] == "call failed" and failed["level"] == "ERROR"
    assert failed["exc"].startswith("Traceback") and "RuntimeError" in failed["exc"]
    assert "[REDACTED:anthropic_key]" in failed["exc"]
    assert "test_logs.py" in lines[4]["stack"]


def test_lines_without_context_still_carry_the_ids_as_null(root_logger):
    stream = _configure("json")
    logging.getLogger("elsewhere").warning("plain")
    (line,) = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert {field: line[field] for field in CORE_FIELDS} == dict.fromkeys(CORE_FIELDS)
    assert line["message"] == "plain" and line["ts"].endswith("+00:00")


def test_the_text_format_appends_the_context(root_logger):
    stream = _configure("text")
    with log_context(run_id=4, role="reviewer"):
        logging.getLogger("repocrew.test").info("reviewing")
    assert stream.getvalue().rstrip().endswith("repocrew.test: reviewing [run_id=4 role=reviewer]")


def test_context_nests_resets_and_follows_a_copied_context_into_a_thread():
    seen: dict[str, dict] = {}
    with log_context(run_id=1, role="planner"):
        with log_context(role="coder", step=None):  # None adds nothing
            seen["inner"] = current_context()
            copied = contextvars.copy_context()
        seen["outer"] = current_context()
        bare = threading.Thread(target=lambda: seen.update(bare=current_context()))
        carried = threading.Thread(
            target=copied.run, args=(lambda: seen.update(carried=current_context()),)
        )
        for thread in (bare, carried):
            thread.start()
            thread.join()
    assert seen["inner"] == {"run_id": 1, "role": "coder"}
    assert seen["outer"] == {"run_id": 1, "role": "planner"}
    assert seen["bare"] == {} and seen["carried"] == seen["inner"]
    assert current_context() == {}


def test_configuring_twice_replaces_the_handler_and_uvicorn_propagates(root_logger):
    first = _configure("json")
    second = _configure("json")
    access = logging.getLogger("uvicorn.access")
    access.setLevel(logging.INFO)  # uvicorn.run sets it from REPOCREW_LOG_LEVEL
    access.info('127.0.0.1:1 - "GET /metrics HTTP/1.1" 200')
    assert first.getvalue() == ""
    (line,) = [json.loads(text) for text in second.getvalue().splitlines()]
    assert line["logger"] == "uvicorn.access" and "GET /metrics" in line["message"]


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_auto_is_text_at_a_terminal_and_json_elsewhere():
    assert choose_format("auto", _Stream(tty=True)) == "text"
    assert choose_format("auto", _Stream(tty=False)) == "json"
    assert choose_format("json", _Stream(tty=True)) == "json"
    with pytest.raises(ValueError, match="log format must be one of"):
        choose_format("xml", _Stream(tty=False))


def test_the_setting_accepts_the_three_formats_and_refuses_others():
    assert Settings(_env_file=None).log_format == "auto"  # type: ignore[call-arg]
    assert Settings(_env_file=None, log_format="text").log_format == "text"  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="log_format"):
        Settings(_env_file=None, log_format="xml")  # type: ignore[call-arg]


def test_a_value_that_is_not_json_is_written_as_its_redacted_text():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    record.token = object.__new__(type("Tok", (), {"__str__": lambda self: GITHUB}))
    line = json.loads(JsonFormatter(SecretScanner()).format(record))
    assert line["token"] == "[REDACTED:github_token]"


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_a_bad_format_string_is_written_redacted_not_raised(root_logger, log_format):
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "bad %s %s", (GITHUB,), None)
    stream = io.StringIO()
    handler = configure_logging(log_format=log_format, scanner=SecretScanner(), stream=stream)
    logging.getLogger().removeHandler(handler)
    line = handler.format(record)
    assert "bad %s %s" in line and "[REDACTED:github_token]" in line and GITHUB not in line
