"""Read pytest's text output: the counts from its summary line, and each test its short summary
lists (failures and errors with file and line; passes, xfails and xpasses under `-rA`).

The fallback when a run left no JUnit XML. The short summary (`FAILED id - message`, asked for
with `-rfE`) names every failure; the traceback sections add where it broke and the whole first
line of the message, which the short summary cuts to the terminal width.

Subtests (pytest 9's own, or the pytest-subtests plugin before it) add words to both: the
summary line counts "3 subtests passed", and a failed subtest is a `SUBFAILED[msg] (i=1) id`
line (pytest 9) or `[msg] (i=1) SUBFAIL id` (pytest-subtests), while its test may still be
listed PASSED. A subtest's failure is its test's failure, under the test's own id.
"""

from __future__ import annotations

import re
from collections import defaultdict, deque
from dataclasses import dataclass, replace
from typing import Any, Literal

from bot.results.pytest_sections import Section, locate

SUMMARY = re.compile(
    r"^=*\s*(?P<body>(?:\d+ (?:subtests )?[a-z]+(?:, )?)+|no tests ran) in [\d.]+s"
    r"(?: \([\d:]+\))?\s*=*$"
)
COUNT = re.compile(r"(\d+) ((?:subtests )?[a-z]+)")
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
    "subtests passed": "subtests_passed",
    "subtests failed": "subtests_failed",
    "subtests skipped": "subtests_skipped",
    "subtests xfailed": "subtests_xfailed",
    "subtests xpassed": "subtests_xpassed",
}
BLOCK = re.compile(r"^=+ (?P<title>.+?) =+$")
TEST_ID = r"[^\s\[]+(?:\[.*?\])?"
SHORT = re.compile(
    rf"^(?P<kind>FAILED|ERROR|PASSED|XFAIL|XPASS) (?P<id>{TEST_ID})(?: - (?P<message>.*))?$"
)
# pytest-subtests: "[even] (i=1) SUBFAIL tests/t.py::test_s - msg";
# pytest 9: "SUBFAILED[even] (i=1) tests/t.py::test_s - msg".
SUBTEST = re.compile(
    r"^(?:(?P<before>.+?) )?SUB(?P<kind>FAIL|PASS|SKIP|XFAIL|XPASS)(?:ED|PED)?(?P<after>\S.*?)?"
    rf" (?P<id>[^\s\[]+::{TEST_ID})(?: - (?P<message>.*))?$"
)
LISTED = {"PASSED": "passed", "XFAIL": "xfailed", "XPASS": "xpassed"}
SECTION = re.compile(r"^_{3,} (?P<title>.+?) _{3,}$")
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
    subtests_passed: int = 0
    subtests_failed: int = 0
    subtests_skipped: int = 0
    subtests_xfailed: int = 0
    subtests_xpassed: int = 0
    failures: tuple[TestFailure, ...] = ()
    # The other tests the short summary lists (`-rA`): (test id, outcome, message).
    listed: tuple[tuple[str, str, str], ...] = ()
    summary: str | None = None  # pytest's last line; None when it never got there
    interrupted: str | None = None  # "Interrupted: 1 error during collection"

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errors + self.skipped + self.xfailed + self.xpassed

    @property
    def subtests(self) -> dict[str, int]:
        words = ("passed", "failed", "skipped", "xfailed", "xpassed")
        return {word: getattr(self, f"subtests_{word}") for word in words}

    @property
    def no_tests_ran(self) -> bool:
        """pytest's exit code 5: nothing collected, or everything deselected."""
        return self.summary is not None and self.total == 0 and not any(self.subtests.values())

    @property
    def ok(self) -> bool:
        return (
            self.summary is not None
            and self.total > 0
            and self.failed == self.errors == self.subtests_failed == 0
            and self.interrupted is None
        )

    @property
    def collection_errors(self) -> tuple[TestFailure, ...]:
        return tuple(f for f in self.failures if f.kind == "error" and "::" not in f.test_id)


@dataclass(frozen=True)
class _Short:
    """A failure's line in the short summary."""

    test_id: str
    kind: Literal["failed", "error"]
    message: str
    subtest: str = ""  # "[even] (i=1)" for a subtest's failure


def parse_test_output(output: str) -> TestReport:
    """The report in pytest's (`-q` or not) output; counts stay 0 when there is no summary."""
    report = TestReport()
    block = ""
    sections: list[Section] = []
    shorts: list[_Short] = []
    listed: list[tuple[str, str, str]] = []
    for line in output.splitlines():
        line = line.rstrip()
        if match := SUMMARY.match(line):
            report = replace(report, summary=line.strip("= "), **_counts(match["body"]))
            block = ""
        elif match := BLOCK.match(line):
            block = match["title"]
        elif match := INTERRUPTED.match(line):
            report = replace(report, interrupted=match["reason"])
        elif block == "short test summary info":
            _short_line(line, shorts, listed)
        elif block in ("FAILURES", "ERRORS"):
            if match := SECTION.match(line):
                sections.append(Section(match["title"]))
            elif sections:
                sections[-1].add(line)
    failures = _from_shorts(shorts, sections) if shorts else _from_sections(sections)
    return replace(report, failures=tuple(failures), listed=tuple(listed))


def _short_line(line: str, shorts: list[_Short], listed: list[tuple[str, str, str]]) -> None:
    if match := SHORT.match(line):
        kind, message = match["kind"], match["message"] or ""
        if kind in LISTED:
            listed.append((match["id"], LISTED[kind], message))
        else:
            shorts.append(_Short(match["id"], "failed" if kind == "FAILED" else "error", message))
    elif (match := SUBTEST.match(line)) and match["kind"] == "FAIL":
        subtest = (match["before"] or match["after"] or "").strip()
        shorts.append(_Short(match["id"], "failed", match["message"] or "", subtest))


def _counts(body: str) -> dict[str, Any]:  # Any: keyword arguments to `replace`
    counts: dict[str, int] = defaultdict(int)
    for number, word in COUNT.findall(body):
        if word in COUNT_FIELDS:
            counts[COUNT_FIELDS[word]] += int(number)
    return counts


def _from_shorts(shorts: list[_Short], sections: list[Section]) -> list[TestFailure]:
    by_title: dict[str, deque[Section]] = defaultdict(deque)
    for each in sections:
        by_title[each.title].append(each)
    failures = []
    for short in shorts:
        section: Section | None = None
        for title in _titles(short):
            if by_title[title]:
                section = by_title[title].popleft()
                break
        failures.append(_failure(short, section))
    return failures


def _titles(short: _Short) -> list[str]:
    """The section headers pytest writes for this failure."""
    if "::" not in short.test_id:
        return [f"ERROR collecting {short.test_id}"]
    head = short.test_id.split("::", 1)[1].replace("::", ".")
    if short.subtest:
        return [f"{head} {short.subtest}"]
    if short.kind == "failed":
        return [head]
    return [f"ERROR at setup of {head}", f"ERROR at teardown of {head}", head]


def _from_sections(sections: list[Section]) -> list[TestFailure]:
    failures = []
    for section in sections:
        title = section.title
        for prefix in ("ERROR collecting ", "ERROR at setup of ", "ERROR at teardown of "):
            if title.startswith(prefix):
                failures.append(_failure(_Short(title.removeprefix(prefix), "error", ""), section))
                break
        else:
            failures.append(_failure(_Short(title, "failed", ""), section))
    return failures


def _failure(short: _Short, section: Section | None) -> TestFailure:
    test_file = short.test_id.split("::", 1)[0]
    located = locate(section, test_file if test_file.endswith(".py") else None, short.message)
    message = f"{short.subtest}: {located.message}" if short.subtest else located.message
    return TestFailure(
        test_id=short.test_id,
        path=located.path,
        line=located.line,
        message=message,
        kind=short.kind,
        details=located.details,
    )
