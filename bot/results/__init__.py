"""Test results as data: read from a run's JUnit XML, TAP or pytest's text, and compared with
the base commit's, so the check run, the tester's report and the votes say what the change did.

Pure: text in, data out; no adapter, no I/O. Where to start:
- `read_junit(xml, root=, files=)`, `read_tap(text, root=)`, `read_pytest_text(output)`:
  a report → `TestResults` (`ResultsUnreadable` when it is not one: try the next reader);
- `compare(baseline, head, rerun)` → `Comparison`; `comparison_summary(comparison, base=)`.

A test's id is what matches it across runs:
- pytest: its node id, `tests/test_x.py::TestC::test_y[param]` (a collection error: the file),
  from the text as printed and from JUnit's classname and name (`pytest_ids.py`);
- node's runner (JUnit and TAP): the suite and test names, outermost first, joined by " > "
  (`math > nested > multiplies`); a file that failed to load: its path;
- jest-junit, vitest, mocha: the `file` attribute, then the classname and name as the runner
  wrote them, joined by " > ", empty and repeated parts left out: vitest
  `test/a.test.js > math > adds`, mocha `test/a.test.js > math nested > adds`, jest-junit
  `test/a.test.js > math nested adds` (with `JEST_JUNIT_ADD_FILE_ATTRIBUTE=true`; without it
  the file is missing);
- tape: the test's name then the assertion's (`math > adds`), repeats numbered ` [2]`.
"""

from bot.results.compare import Comparison, compare, comparison_summary
from bot.results.junit import read_junit
from bot.results.model import Outcome, ResultsUnreadable, TestCase, TestResults
from bot.results.tap_report import read_tap
from bot.results.text import read_pytest_text

__all__ = [
    "Comparison",
    "Outcome",
    "ResultsUnreadable",
    "TestCase",
    "TestResults",
    "compare",
    "comparison_summary",
    "read_junit",
    "read_pytest_text",
    "read_tap",
]
