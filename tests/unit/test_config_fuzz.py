"""Crew config fuzzing: any garbage in crew.toml or .repocrew.toml is a `ConfigError` naming the
file and line (and the key, when there is one), never another exception."""

from __future__ import annotations

import json
import re
import tomllib

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.roster.loader import ConfigError, apply_repo_overrides, load_crew, parse_crew

FUZZ = settings(max_examples=60, derandomize=True, database=None, deadline=None)
CREW = load_crew(None)
KEYS = [
    "trigger_label", "branch_prefix", "protected_paths", "tests", "budgets", "review", "roles",
    "steps", "lead", "voters", "vote_threshold", "prompts", "channel", "prices", "name", "nope",
    "tests.command", "tests.wall_seconds", "budgets.run_usd", "review.max_findings",
    "roles.coder.model", "roles.coder.max_turns", "roles.coder.github.app_id",
    "roles.ghost.name", "steps.code", "tests.allow_unsandboxed",
]  # fmt: skip


def bmp_text(size: int):
    return st.text(st.characters(max_codepoint=0xFFFF, exclude_categories=["Cs"]), max_size=size)


scalars = st.one_of(
    st.integers(-(10**6), 10**6), st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(), bmp_text(12), st.lists(st.integers(), max_size=3),
    st.lists(bmp_text(5), max_size=3),
)  # fmt: skip
WHERE = re.compile(r"^(?:\.repocrew\.toml|crew\.toml):(\d+:)? ", re.MULTILINE)


def _toml(key: str, value) -> str:
    *tables, name = key.split(".")
    rendered = tomllib_dump(value)
    return (f"[{'.'.join(tables)}]\n" if tables else "") + f"{name} = {rendered}\n"


def tomllib_dump(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # JSON's escapes are TOML's, for the BMP
    if isinstance(value, list):
        return "[" + ", ".join(tomllib_dump(v) for v in value) + "]"
    return repr(value)


def _assert_clear(error: ConfigError, source: str) -> None:
    text = str(error)
    assert text and all(WHERE.match(line) for line in text.splitlines()), text


@FUZZ
@given(text=st.text(max_size=200))
def test_any_text_as_repocrew_toml_is_accepted_or_a_config_error(text):
    try:
        apply_repo_overrides(CREW, text, source=".repocrew.toml")
    except ConfigError as error:
        _assert_clear(error, ".repocrew.toml")


@FUZZ
@given(text=st.text(max_size=200))
def test_any_text_as_crew_toml_is_a_config_error_naming_the_file(text):
    try:
        parse_crew(text, source="crew.toml")
    except ConfigError as error:
        _assert_clear(error, "crew.toml")


@FUZZ
@given(key=st.sampled_from(KEYS), value=scalars)
def test_wrong_types_and_unknown_keys_name_the_line_and_the_key(key, value):
    text = _toml(key, value)
    tomllib.loads(text)  # the generator writes valid TOML: only the values are wrong
    try:
        apply_repo_overrides(CREW, text, source=".repocrew.toml")
    except ConfigError as error:
        _assert_clear(error, ".repocrew.toml")
        assert ".repocrew.toml:" in str(error)
        # The file parses, so every problem is at a line, on a key.
        assert all(p.line is not None and p.key for p in error.problems), str(error)
