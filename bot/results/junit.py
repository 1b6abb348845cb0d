"""Read a JUnit XML report into `TestResults`: pytest's, node's test runner's, jest-junit's,
vitest's and mocha's xunit, nested suites included.

junitparser reads the XML (elements, results, nested suites); this module decides what each
testcase means. The XML comes from the repository's own test run, so it is untrusted: the
parser is the standard library's (expat refuses entity blow-ups and never fetches external
entities), and a report that is not JUnit XML raises `ResultsUnreadable` for the caller to fall
back on the text.

Ids, so a test has the same id in every run (see `bot/results/__init__.py` for the rules):
pytest's become node ids (`pytest_ids.py`); the JavaScript runners' are names joined by " > ".
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from xml.etree.ElementTree import ParseError

from junitparser import Attr, Error, Failure, JUnitXml, JUnitXmlError, Skipped, TestSuite
from junitparser import TestCase as JUnitCase

from bot.results.locations import as_repo_path, first_frame, is_script
from bot.results.model import (
    Outcome,
    ResultsUnreadable,
    TestCase,
    TestResults,
    cut,
    one_line,
    results_from,
)
from bot.results.pytest_ids import pytest_node_id
from bot.results.pytest_sections import locate, section_of

SEPARATOR = " > "
NODE_CLASSNAME = "test"  # node's runner writes this classname on every testcase


class _Case(JUnitCase):
    """A testcase with the attributes some runners add (pytest's xunit1, jest-junit, mocha)."""

    file = Attr()
    line = Attr()


@dataclass(frozen=True)
class _Found:
    """One testcase and the names of the suites around it, outermost first."""

    suites: tuple[str, ...]
    case: _Case


def read_junit(xml: str | bytes, *, root: str = "", files: Collection[str] = ()) -> TestResults:
    """The results in a JUnit XML report.

    `root` is the directory the tests ran in: absolute paths under it become relative to the
    repository. `files` (the repository's files, optional) settles where a pytest module's
    dotted name ends and its classes begin.
    """
    report = _parse(xml)
    found = list(_walk(report, ()))
    tool = _tool(report, found)
    cases = [_case(tool, one, root, files) for one in found]
    return results_from(cases, source="junit")


def _parse(xml: str | bytes) -> JUnitXml:
    data = xml.encode() if isinstance(xml, str) else xml  # an encoding declaration needs bytes
    try:
        return JUnitXml.fromstring(data)
    except (ParseError, JUnitXmlError) as error:
        raise ResultsUnreadable(f"not JUnit XML: {error}") from error


def _walk(element: JUnitXml | TestSuite, suites: tuple[str, ...]) -> Iterator[_Found]:
    for case in element.iterchildren(_Case):
        yield _Found(suites, case)
    for suite in element.iterchildren(TestSuite):
        yield from _walk(suite, (*suites, suite.name or ""))


def _tool(report: JUnitXml, found: list[_Found]) -> str:
    if report.name == "pytest tests" or any(one.suites[:1] == ("pytest",) for one in found):
        return "pytest"
    if found and all(one.case.classname == NODE_CLASSNAME for one in found):
        return "node"
    return "javascript"


def _case(tool: str, found: _Found, root: str, files: Collection[str]) -> TestCase:
    case = found.case
    outcome, message, body = _result(case)
    if tool == "pytest":
        return _pytest_case(case, outcome, message, body, files)
    test_id, file = _javascript_id(tool, found, root)
    # Node wraps a test's error in one of its own, whose stack starts where the test was
    # declared; the error thrown is its `cause`.
    cause = body.partition("\n  cause:")[2]
    where = first_frame(cause, root) or first_frame(body, root) or (file, None)
    return TestCase(
        id=test_id,
        outcome=outcome,
        message=one_line(message) or one_line(body),
        details=cut(body),
        path=where[0],
        line=where[1],
    )


def _result(case: _Case) -> tuple[Outcome, str, str]:
    """The outcome, the `message` attribute and the body of the worst result in the case."""
    results = case.result
    for kind, outcome in ((Error, Outcome.ERROR), (Failure, Outcome.FAILED)):
        chosen = [r for r in results if isinstance(r, kind)]
        if chosen:
            return outcome, chosen[0].message or "", chosen[0].text or ""
    skipped = [r for r in results if isinstance(r, Skipped)]
    if skipped:
        # pytest shows an xfail as skipped with this type; a non-strict xpass as a pass.
        xfail = skipped[0].type == "pytest.xfail"
        message = skipped[0].message or ""
        message = "" if message == "true" else message  # node writes message="true"
        return (Outcome.XFAILED if xfail else Outcome.SKIPPED), message, skipped[0].text or ""
    return Outcome.PASSED, "", ""


def _pytest_case(
    case: _Case, outcome: Outcome, message: str, body: str, files: Collection[str]
) -> TestCase:
    file = case.file or None
    test_id, test_file = pytest_node_id(
        case.classname or "", case.name or "", file=file, files=files
    )
    if outcome in (Outcome.FAILED, Outcome.ERROR):
        located = locate(section_of(body), test_file, one_line(message))
        return TestCase(
            id=test_id,
            outcome=outcome,
            message=located.message,
            details=located.details or cut(body),
            path=located.path,
            line=located.line,
        )
    line = int(case.line) + 1 if case.line and case.line.isdigit() else None  # 0-based there
    return TestCase(
        id=test_id, outcome=outcome, message=one_line(message), path=test_file, line=line
    )


def _javascript_id(tool: str, found: _Found, root: str) -> tuple[str, str | None]:
    """(id, file): the file, the suites, the classname and the name, joined by " > ".

    Node's runner nests a suite per describe block (and per test with subtests) and has no
    per-file suite; the other runners' outermost suite names a file or the run, and their
    names already hold the describe blocks, so that suite is left out. Node's constant
    classname is left out too; so are empty parts and a part that repeats the file or the
    part before it (jest-junit writes the same text as classname and name).
    """
    case = found.case
    file = as_repo_path(case.file, root) if case.file else None
    suites = found.suites if tool == "node" else found.suites[1:]
    classname = "" if tool == "node" else case.classname or ""
    parts: list[str] = []
    for part in (*suites, classname, case.name or ""):
        part = part.strip()
        if part.startswith("/"):  # node names a file that failed to load by its full path
            part = as_repo_path(part, root)
        if part and part != file and (not parts or part != parts[-1]):
            parts.append(part)
    if file:
        return SEPARATOR.join([file, *parts]), file
    # vitest's classname, a file that failed to load: a test file named alone
    return SEPARATOR.join(parts), parts[0] if parts and is_script(parts[0]) else None
