"""Read pytest's output: the counts from its summary line, and each failure with file and line.

Pure text in, data out. The short summary (`FAILED id - message`, asked for with `-rfE`) names
every failure; the traceback sections add where it broke (`path:line: ErrorType`) and the
whole first line of the message, which the short summary cuts to the terminal width. A file
and line inside the repository is preferred, so the tester can annotate the failing line.
"""

from __future__ import annotations

import re
import textwrap
from collections import defaultdict, deque
from dataclasses import dataclass, field, replace
from typing import Literal

DETAILS_CHARS = 4000

SUMMARY = re.compile(
    r"^=*\s*(?P<body>(?:\d+ [a-z]+(?:, )?)+|no tests ran) in [\d.]+s(?: \([\d:]+\))?\s*=*$"
)
COUNT = re.compile(r"(\d+) ([a-z]+)")
COUNT_FIELDS = {
    "passed": "passed",
    "failed": "failed",
    "error": "errors",
    "errors": "errors",
    "skipped": "skipped",
    "xfailed": "xfailed",
    "xpassed": "xpassed",
    "deselected": "deselected",
    "warning": "warnings",
    "warnings": "warnings",
}
BLOCK = re.compile(r"^=+ (?P<title>.+?) =+$")
SHORT = re.compile(r"^(?P<kind>FAILED|ERROR) (?P<id>[^\s\[]+(?:\[.*?\])?)(?: - (?P<message>.*))?$")
SECTION = re.compile(r"^_{3,} (?P<title>.+?) _{3,}$")
CAPTURED = re.compile(r"^-{3,} Captured .* -{3,}$")
LOCATION = re.compile(r"^(?P<path>[^\s:]+):(?P<line>\d+):(?: (?P<what>.*))?$")
ERROR_LINE = re.compile(r"^E(?: (?P<text>.*))?$")
FILE_LINE = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+)')
EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Failed|Interrupt|Warning)\w*:")
INTERRUPTED = re.compile(r"^!{3,} (?P<reason>.+?) !{3,}$")


@dataclass(frozen=True)
class TestFailure:
    __test__ = False  # not a pytest test class, though its name says Test

    test_id: str  # "tests/test_x.py::test_y[1]"; the file alone for a collection error
    path: str | None  # relative to the repository, as pytest printed it
    line: int | None  # 1-based: where to put the annotation
    message: str  # one line: "AssertionError: assert 1 == 2"
    kind: Literal["failed", "error"] = "failed"
    details: str = ""  # the `E` lines of the traceback


@dataclass(frozen=True)
class TestReport:
    __test__ = False

    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    xfailed: int = 0
    xpassed: int = 0
    deselected: int = 0
    warnings: int = 0
    failures: tuple[TestFailure, ...] = ()
    summary: str | None = None  # pytest's last line; None when it never got there
    interrupted: str | None = None  # "Interrupted: 1 error during collection"

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errors + self.skipped + self.xfailed + self.xpassed

    @property
    def no_tests_ran(self) -> bool:
        """pytest's exit code 5: nothing collected, or everything deselected."""
        return self.summary is not None and self.total == 0

    @property
    def ok(self) -> bool:
        return (
            self.summary is not None
            and self.total > 0
            and self.failed == self.errors == 0
            and self.interrupted is None
        )

    @property
    def collection_errors(self) -> tuple[TestFailure, ...]:
        return tuple(f for f in self.failures if f.kind == "error" and "::" not in f.test_id)


@dataclass
class _Section:
    title: str
    locations: list[tuple[str, int, str]] = field(default_factory=list)
    error_lines: list[str] = field(default_factory=list)
    captured: bool = False

    def add(self, line: str) -> None:
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


def parse_test_output(output: str) -> TestReport:
    """The report in pytest's (`-q` or not) output; counts stay 0 when there is no summary."""
    report = TestReport()
    block = ""
    sections: list[_Section] = []
    shorts: list[re.Match[str]] = []
    for line in output.splitlines():
        line = line.rstrip()
        if match := SUMMARY.match(line):
            report = replace(report, summary=line.strip("= "), **_counts(match["body"]))
            block = ""
        elif match := BLOCK.match(line):
            block = match["title"]
        elif match := INTERRUPTED.match(line):
            report = replace(report, interrupted=match["reason"])
        elif block == "short test summary info" and (match := SHORT.match(line)):
            shorts.append(match)
        elif block in ("FAILURES", "ERRORS"):
            if match := SECTION.match(line):
                sections.append(_Section(match["title"]))
            elif sections:
                sections[-1].add(line)
    failures = _from_shorts(shorts, sections) if shorts else _from_sections(sections)
    return replace(report, failures=tuple(failures))


def _counts(body: str) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for number, word in COUNT.findall(body):
        if word in COUNT_FIELDS:
            counts[COUNT_FIELDS[word]] += int(number)
    return counts


def _from_shorts(shorts: list[re.Match[str]], sections: list[_Section]) -> list[TestFailure]:
    by_title: dict[str, deque[_Section]] = defaultdict(deque)
    for section in sections:
        by_title[section.title].append(section)
    failures = []
    for short in shorts:
        test_id, kind = short["id"], "failed" if short["kind"] == "FAILED" else "error"
        section = None
        for title in _titles(test_id, kind):
            if by_title[title]:
                section = by_title[title].popleft()
                break
        failures.append(_failure(test_id, kind, section, short["message"] or ""))
    return failures


def _titles(test_id: str, kind: str) -> list[str]:
    """The section headers pytest writes for this test id."""
    if "::" not in test_id:
        return [f"ERROR collecting {test_id}"]
    head = test_id.split("::", 1)[1].replace("::", ".")
    if kind == "failed":
        return [head]
    return [f"ERROR at setup of {head}", f"ERROR at teardown of {head}", head]


def _from_sections(sections: list[_Section]) -> list[TestFailure]:
    failures = []
    for section in sections:
        title = section.title
        for prefix in ("ERROR collecting ", "ERROR at setup of ", "ERROR at teardown of "):
            if title.startswith(prefix):
                failures.append(_failure(title.removeprefix(prefix), "error", section, ""))
                break
        else:
            failures.append(_failure(title, "failed", section, ""))
    return failures


def _failure(test_id: str, kind: str, section: _Section | None, short: str) -> TestFailure:
    test_file = test_id.split("::", 1)[0]
    test_file = test_file if test_file.endswith(".py") else None
    path, line = test_file, None
    message, details = short, ""
    if section is not None:
        for where, number, _ in section.locations:
            in_repo = _in_repo(where, test_file)
            if in_repo:
                path, line = in_repo, number
        message = _message(section) or short
        details = textwrap.dedent("\n".join(section.error_lines)).strip()[:DETAILS_CHARS]
    return TestFailure(
        test_id=test_id,
        path=path,
        line=line,
        message=message,
        kind="failed" if kind == "failed" else "error",
        details=details,
    )


def _in_repo(path: str, test_file: str | None) -> str | None:
    """The path relative to the repository, or None for the interpreter's and libraries'."""
    if path.startswith("/"):
        return test_file if test_file and path.endswith("/" + test_file) else None
    if path.startswith("..") or "site-packages" in path.split("/"):
        return None
    return path


def _message(section: _Section) -> str:
    texts = [text.strip() for text in section.error_lines if text.strip()]
    if not texts:
        return ""
    message = next((text for text in texts if EXCEPTION.match(text)), texts[0])
    crash_type = section.locations[-1][2] if section.locations else ""  # "AssertionError"
    named = EXCEPTION.match(message) or message.split(":", 1)[0].endswith(crash_type)
    if re.fullmatch(r"[A-Za-z_][\w.]*", crash_type) and not named:
        message = f"{crash_type}: {message}"
    return message
