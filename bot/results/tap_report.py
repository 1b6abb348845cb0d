"""Read a TAP stream (13 or 14) into `TestResults`, as tape and node's runner print it.

tap.py parses each line (`ok 1 - name # SKIP why`, plans, bail-outs); what it does not know is
left here: TAP 14's subtests, indented four spaces under their parent (node prints a test's
subtests, then the test's own line), and the YAML block after a result (PyYAML's safe loader
reads it: the error, and where it happened).

Ids:
- node's runner: the names from the outermost test down, joined by " > ", as in its JUnit XML
  ("math > nested > multiplies"). A test with subtests is a group, not a case, unless it
  failed while none of its subtests did (a failing hook), so a failure is never lost.
- tape: the test's name (its `# name` comment) then the assertion's, joined by " > "
  ("math > adds"); an id seen before in the same run gets " [2]", " [3]" appended.
Outcomes: `# SKIP` is skipped; `not ok … # TODO` is xfailed (a known failure); `ok … # TODO`
is skipped, as node writes its `it.todo()` without a body.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import yaml
from tap.line import Bail, Plan, Result
from tap.parser import Parser

from bot.results.locations import as_repo_path, first_frame
from bot.results.model import (
    Outcome,
    ResultsUnreadable,
    TestCase,
    TestResults,
    cut,
    one_line,
    results_from,
)

SUBTEST = re.compile(r"^# Subtest: ")
# tape's own comments that name no test: its totals at the end.
TOTALS = re.compile(r"^# (?:tests|pass|fail|todo|skip)\s+\d+$|^# ok$", re.IGNORECASE)
TAPE_SKIPPED = re.compile(r"^# SKIP (?P<name>.+)$")
TAPE_TODO = re.compile(r"^# TODO (?P<name>.+)$")
PARSER = Parser()


@dataclass
class _Node:
    result: Result
    name: str
    group: str  # tape: the test the assertion belongs to
    level: int
    facts: dict[str, Any] = field(default_factory=dict)  # the YAML block
    raw: str = ""
    children: list[_Node] = field(default_factory=list)


@dataclass
class _Stream:
    roots: list[_Node] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # tape's skipped tests, by name
    planned: bool = False
    bailed: str | None = None


def read_tap(text: str, *, root: str = "") -> TestResults:
    """The results in a TAP stream; incomplete when it has no plan or bailed out."""
    lines = text.splitlines()
    stream = _read(lines, nested=any(SUBTEST.match(line.strip()) for line in lines))
    if not stream.roots and not stream.planned and not stream.skipped:
        raise ResultsUnreadable("no TAP results in the text")
    cases = [case for node in stream.roots for case in _cases(node, (), root)]
    cases += [TestCase(id=name, outcome=Outcome.SKIPPED) for name in stream.skipped]
    return results_from(
        _numbered(cases),
        source="tap",
        complete=stream.planned and stream.bailed is None,
        interrupted=stream.bailed,
    )


def _read(lines: list[str], *, nested: bool) -> _Stream:
    stream = _Stream()
    pending: dict[int, list[_Node]] = {}  # results at each level not yet claimed by a parent
    group, index = "", 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        level = (len(line) - len(line.lstrip(" "))) // 4
        index += 1
        if stripped == "---" and pending.get(level):
            index = _yaml(lines, index, pending[level][-1])
            continue
        parsed = PARSER.parse_line(stripped)
        if isinstance(parsed, Result):
            node = _Node(parsed, _name(parsed.description), group, level)
            node.children = pending.pop(level + 1, [])
            pending.setdefault(level, []).append(node)
        elif isinstance(parsed, Plan) and level == 0:
            stream.planned = True
        elif isinstance(parsed, Bail):
            stream.bailed = f"Bail out! {parsed.reason}".strip()
        elif not nested and level == 0:
            group = _tape_comment(stripped, group, stream)
    stream.roots = pending.get(0, [])
    return stream


def _tape_comment(line: str, group: str, stream: _Stream) -> str:
    """tape names each test in a comment before its assertions: the group from here on."""
    if not line.startswith("#") or TOTALS.match(line):
        return group
    if match := TAPE_SKIPPED.match(line):
        stream.skipped.append(match["name"].strip())
        return group
    if match := TAPE_TODO.match(line):
        return match["name"].strip()
    return line.removeprefix("#").strip()


def _yaml(lines: list[str], index: int, node: _Node) -> int:
    """Read the YAML block after a result, up to its `...`; the index after it."""
    block: list[str] = []
    while index < len(lines) and lines[index].strip() != "...":
        block.append(lines[index])
        index += 1
    node.raw = "\n".join(block)
    try:
        facts = yaml.safe_load(_dedent(block))
    except yaml.YAMLError:
        facts = None
    node.facts = facts if isinstance(facts, dict) else {}
    return index + 1


def _dedent(block: list[str]) -> str:
    indents = [len(line) - len(line.lstrip(" ")) for line in block if line.strip()]
    margin = min(indents, default=0)
    return "\n".join(line[margin:] for line in block)


def _name(description: str) -> str:
    return description.strip().removeprefix("- ").strip()


def _cases(node: _Node, parents: tuple[str, ...], root: str) -> list[TestCase]:
    # node names a file that failed to load by its full path
    name = as_repo_path(node.name, root) if node.name.startswith("/") else node.name
    path = (*parents, name) if parents or not node.group else (node.group, name)
    if not node.children:
        return [_case(node, " > ".join(path), root)]
    cases = [case for child in node.children for case in _cases(child, path, root)]
    if not node.result.ok and not node.result.todo and not any(c.failing for c in cases):
        cases.append(_case(node, " > ".join(path), root))
    return cases


def _case(node: _Node, test_id: str, root: str) -> TestCase:
    result, facts = node.result, node.facts
    if result.skip:
        outcome = Outcome.SKIPPED
    elif result.todo:
        outcome = Outcome.SKIPPED if result.ok else Outcome.XFAILED
    else:
        outcome = Outcome.PASSED if result.ok else Outcome.FAILED
    where = None
    for key in ("stack", "at", "location"):
        where = where or first_frame(str(facts.get(key, "")), root)
    return TestCase(
        id=test_id,
        outcome=outcome,
        message=_message(facts, result) if outcome is not Outcome.PASSED else "",
        details=cut(node.raw),
        path=where[0] if where else None,
        line=where[1] if where else None,
    )


def _message(facts: dict[str, Any], result: Result) -> str:
    if "error" in facts:
        return one_line(str(facts["error"]))
    if "expected" in facts or "actual" in facts:
        operator = f"{facts['operator']}: " if "operator" in facts else ""
        return f"{operator}expected {facts.get('expected')!r}, actual {facts.get('actual')!r}"
    return result.directive.reason or ""


def _numbered(cases: list[TestCase]) -> list[TestCase]:
    """Ids made unique in order: tape's assertions often share their default message."""
    seen: Counter[str] = Counter()
    numbered = []
    for case in cases:
        seen[case.id] += 1
        if seen[case.id] > 1:
            case = TestCase(**{**case.__dict__, "id": f"{case.id} [{seen[case.id]}]"})
        numbered.append(case)
    return numbered
