"""Read one of pytest's tracebacks: where it broke (`path:line: ErrorType`) and the whole first
line of the message (the `E` lines).

The same traceback is a section of pytest's text output (under FAILURES or ERRORS) and the body
of a `<failure>` or `<error>` in its JUnit XML, so both readers ask this module, and a failure
reads the same whichever report it came from. A file and line inside the repository is
preferred, so the tester can annotate the failing line.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field

from bot.results.model import DETAILS_CHARS

CAPTURED = re.compile(r"^-{3,} Captured .* -{3,}$")
LOCATION = re.compile(r"^(?P<path>[^\s:]+):(?P<line>\d+):(?: (?P<what>.*))?$")
ERROR_LINE = re.compile(r"^E(?: (?P<text>.*))?$")
FILE_LINE = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+)')
EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Failed|Interrupt|Warning)\w*:")


@dataclass
class Section:
    """One traceback, fed line by line."""

    title: str = ""
    locations: list[tuple[str, int, str]] = field(default_factory=list)
    error_lines: list[str] = field(default_factory=list)
    captured: bool = False
    first: str = ""  # the first line: the whole message of a section without a traceback

    def add(self, line: str) -> None:
        self.first = self.first or line.strip()
        if self.captured or CAPTURED.match(line):
            self.captured = True  # test output from here on: no traceback lines in it
        elif match := LOCATION.match(line):
            what = (match["what"] or "").strip()
            self.locations.append((match["path"], int(match["line"]), what))
        elif match := ERROR_LINE.match(line):
            text = match["text"] or ""
            self.error_lines.append(text)
            if file_line := FILE_LINE.search(text):  # a SyntaxError names the file this way
                self.locations.append((file_line["path"], int(file_line["line"]), ""))


@dataclass(frozen=True)
class Located:
    path: str | None
    line: int | None
    message: str
    details: str


def section_of(text: str) -> Section:
    """The traceback in a JUnit `<failure>` or `<error>` body."""
    section = Section()
    for line in text.splitlines():
        section.add(line.rstrip())
    return section


def locate(section: Section | None, test_file: str | None, short: str) -> Located:
    """Where the test in `test_file` broke, and its message (`short` when the traceback has
    none: pytest's short summary line, or the JUnit `message` attribute)."""
    path, line = test_file, None
    if section is None:
        return Located(path, line, short, "")
    for where, number, _ in section.locations:
        in_repo = in_repo_path(where, test_file)
        if in_repo:
            path, line = in_repo, number
    details = textwrap.dedent("\n".join(section.error_lines)).strip()[:DETAILS_CHARS]
    return Located(path, line, message_of(section) or short, details)


def in_repo_path(path: str, test_file: str | None) -> str | None:
    """The path relative to the repository, or None for the interpreter's and libraries'."""
    if path.startswith("/"):
        return test_file if test_file and path.endswith("/" + test_file) else None
    if path.startswith("..") or "site-packages" in path.split("/"):
        return None
    return path


def message_of(section: Section) -> str:
    texts = [text.strip() for text in section.error_lines if text.strip()]
    if not texts:  # "[XPASS(strict)] reason" is all a strict xpass's section says
        return "" if section.locations else section.first
    message = next((text for text in texts if EXCEPTION.match(text)), texts[0])
    crash_type = section.locations[-1][2] if section.locations else ""  # "AssertionError"
    named = EXCEPTION.match(message) or message.split(":", 1)[0].endswith(crash_type)
    if re.fullmatch(r"[A-Za-z_][\w.]*", crash_type) and not named:
        message = f"{crash_type}: {message}"
    return message
