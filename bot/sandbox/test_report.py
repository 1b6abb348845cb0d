"""pytest's text output read into counts and failures: the reader lives in
`bot/results/pytest_text.py` with the other test reports; this name stays for its callers."""

from bot.results.pytest_text import TestFailure, TestReport, parse_test_output

__all__ = ["TestFailure", "TestReport", "parse_test_output"]
