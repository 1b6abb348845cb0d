"""Paths that reports print, made relative to the repository; frames outside it ignored."""

from __future__ import annotations

import pytest

from bot.results.locations import first_frame, relative
from bot.results.model import one_line


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/work/repo/test/a.test.js", "test/a.test.js"),
        ("file:///work/repo/test/a.test.mjs", "test/a.test.mjs"),
        ("test/./a.test.js", "test/a.test.js"),
        ("/work/repository/a.js", None),  # a sibling that only starts the same
        ("/usr/lib/node.js", None),
        ("node_modules/jest-circus/build/index.js", None),
        ("/work/repo/node_modules/x/index.js", None),
        ("../outside.js", None),
        ("node:internal/timers", None),
    ],
)
def test_relative(path, expected):
    assert relative(path, "/work/repo") == expected


def test_first_frame_skips_libraries_and_the_runtime():
    stack = """Error: boom
    at Object.toBe (/work/repo/node_modules/expect/build/index.js:10:5)
    at process.processImmediate (node:internal/timers:483:21)
    at Context.<anonymous> (/work/repo/test/a.test.js:12:7)
    at Context.<anonymous> (/work/repo/test/b.test.js:3:1)"""
    assert first_frame(stack, "/work/repo") == ("test/a.test.js", 12)
    assert first_frame(" ❯ test/a.test.ts:8:19", "") == ("test/a.test.ts", 8)
    assert first_frame("at node:internal/x:1:1", "/work/repo") is None


def test_one_line_joins_a_line_that_announces_the_next():
    assert one_line("\n  Expected values to be strictly equal:\n\n2 !== 1\n") == (
        "Expected values to be strictly equal: 2 !== 1"
    )
    assert one_line("boom\nat x") == "boom" and one_line("  \n") == ""
