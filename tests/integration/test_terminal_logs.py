"""The real command's log lines: compact text when stderr is a terminal (a pseudo-terminal
here), one JSON object per line when it is not, and REPOCREW_LOG_FORMAT above both."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import REPOCREW, clean_env, repocrew

# A key file that cannot be read: every command logs one warning about it, then works.
UNREADABLE_KEY = {"REPOCREW_GITHUB_PRIVATE_KEY_PATH": "gone.pem"}
WARNING = "the GitHub App key is unreadable ([Errno 2] No such file or directory: 'gone.pem')"
TEXT_LINE = re.compile(
    rf"\d\d:\d\d:\d\d WARNING repocrew: {re.escape(WARNING)}; logs redact keys by shape only"
)


def _at_a_terminal(cwd: Path, **env: str) -> str:
    """stderr of `repocrew metrics` when it is a terminal (stdout stays a pipe)."""
    leader, follower = pty.openpty()
    try:
        subprocess.run(
            [REPOCREW, "metrics"],
            cwd=cwd,
            env=clean_env(cwd, **UNREADABLE_KEY, **env),
            stdout=subprocess.DEVNULL,
            stderr=follower,
            timeout=60,
            check=True,
        )
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal's other end is closed: all is read
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).decode().replace("\r\n", "\n")
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_a_terminal_gets_one_compact_line_per_record(tmp_path):
    (line,) = _lines(_at_a_terminal(tmp_path))

    assert TEXT_LINE.fullmatch(line), line


def test_a_pipe_gets_json(tmp_path):
    ran = repocrew(tmp_path, "metrics", **UNREADABLE_KEY)

    (line,) = _lines(ran.stderr)
    record = json.loads(line)
    assert (record["level"], record["logger"]) == ("WARNING", "repocrew")
    assert record["message"].startswith(WARNING)


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_the_setting_wins_over_the_terminal(tmp_path, log_format):
    at_terminal = _lines(_at_a_terminal(tmp_path, REPOCREW_LOG_FORMAT=log_format))
    piped = _lines(
        repocrew(tmp_path, "metrics", **UNREADABLE_KEY, REPOCREW_LOG_FORMAT=log_format).stderr
    )

    for (line,) in (at_terminal, piped):
        if log_format == "json":
            assert json.loads(line)["message"].startswith(WARNING)
        else:
            assert TEXT_LINE.fullmatch(line), line
