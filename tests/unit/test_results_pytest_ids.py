"""On a real pytest run, the ids read from its JUnit XML are the node ids it prints with -rA,
and its text and its XML give the same failures."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from bot.results import Outcome, read_junit, read_pytest_text

FILES = {
    "pytest.ini": "[pytest]\n",
    "pkg/__init__.py": "",
    "pkg/sub/__init__.py": "",
    "pkg/sub/test_deep.py": """\
import pytest


class TestOuter:
    class TestInner:
        @pytest.mark.parametrize("value", ["a.b", "c/d", "e f", "g::h"])
        def test_param(self, value):
            assert "." not in value


def test_subtests(subtests):
    for i in range(2):
        with subtests.test(i=i):
            assert i == 0
""",
    "test_top.py": """\
import pytest


def test_top():
    pass


@pytest.fixture
def broken():
    raise RuntimeError("no")


def test_error(broken):
    pass
""",
}


def _run(project: Path) -> tuple[str, str]:
    for name, text in FILES.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "PY_COLORS"))}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-rA", "-p", "no:cacheprovider", "--junitxml=out.xml"],
        cwd=project,
        env=env | {"PYTHONDONTWRITEBYTECODE": "1", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.stdout, (project / "out.xml").read_text()


def test_junit_ids_are_the_node_ids_printed_with_rA(tmp_path):
    text, xml = _run(tmp_path)
    printed = set(re.findall(r"^(?:PASSED|FAILED|ERROR) (\S+(?:\[.*?\])?)(?: - .*)?$", text, re.M))
    from_xml = read_junit(xml, root=str(tmp_path))
    assert {case.id for case in from_xml.cases} == printed
    assert "pkg/sub/test_deep.py::TestOuter::TestInner::test_param[g::h]" in printed
    assert len(printed) == 7


def test_the_text_and_the_xml_of_one_run_agree_on_failures(tmp_path):
    text, xml = _run(tmp_path)
    from_text, from_xml = read_pytest_text(text), read_junit(xml)
    failing = {(case.id, case.outcome) for case in from_xml.failures}
    assert {(case.id, case.outcome) for case in from_text.failures} == failing
    assert ("pkg/sub/test_deep.py::test_subtests", Outcome.FAILED) in failing
    assert ("test_top.py::test_error", Outcome.ERROR) in failing
    by_id = from_xml.by_id()
    for case in from_text.failures:
        assert (case.path, case.line) == (by_id[case.id].path, by_id[case.id].line), case.id
