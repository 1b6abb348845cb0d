"""The key → line index read from tomlkit: each TOML shape, and generated files of known lines."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.roster.loader import ConfigError, apply_repo_overrides, load_crew
from bot.roster.toml_lines import key_lines


def test_dotted_keys_place_the_leaf_and_name_their_parents_where_first_written():
    text = "[t]\nx = 0\na.b.c = 1\n\na.b.d = 2\n[t.a.e]\n"
    lines = key_lines(text)
    assert lines.explicit == {
        ("t",): 1,
        ("t", "x"): 2,
        ("t", "a", "b", "c"): 3,
        ("t", "a", "b", "d"): 5,
        ("t", "a", "e"): 6,
    }
    assert lines.line(("t", "a")) == 3 and lines.line(("t", "a", "b")) == 3


def test_dots_inside_quotes_are_part_of_one_key():
    text = "\"x.y\" = 1\n['q.r'.\"s t\"]\nu.'v.w' = 2\n"
    assert key_lines(text).explicit == {
        ("x.y",): 1,
        ("q.r", "s t"): 2,
        ("q.r", "s t", "u", "v.w"): 3,
    }


def test_keys_inside_an_inline_table_report_its_line():
    lines = key_lines('a = 1\nc = { d = 1, e.f = "}" }\ng = 2\n')
    assert lines.explicit == {("a",): 1, ("c",): 2, ("g",): 3}
    assert lines.line(("c", "e", "f")) == 2


def test_multiline_arrays_and_strings_are_not_read_as_keys():
    text = '''a = [
  1, # ]
  "]",
]
s = """
[not.a.table]
k = 1 \\"""
"""
l = \'\'\'
m = 2\'\'\'
b = [{ p = 1 },
     { p = 2 }]
c = 3
'''
    lines = key_lines(text)
    assert lines.explicit == {("a",): 1, ("s",): 5, ("l",): 9, ("b",): 11, ("c",): 13}
    assert lines.line(("a", 1)) == 1 and lines.line(("b", 1, "p")) == 11


def test_keys_after_comments_blank_lines_and_indents():
    text = "# a = 0\n\n  # [t]\n\ta = 1  # b = 2\n\n [t] # [u]\n   b = 2\n"
    assert key_lines(text).explicit == {("a",): 4, ("t",): 6, ("t", "b"): 7}


def test_crlf_line_ends_count_once():
    text = 'a = 1\r\ns = """x\r\ny"""\r\n[t]\r\nb = 2\r\n'
    assert key_lines(text).explicit == {("a",): 1, ("s",): 2, ("t",): 4, ("t", "b"): 5}


def test_unicode_line_separators_in_strings_and_comments_end_no_line():
    assert key_lines('a = "x\u2028y\x85"  # z\u2029\nb = 1\n').explicit == {("a",): 1, ("b",): 2}
    with pytest.raises(ConfigError) as caught:
        apply_repo_overrides(load_crew(None), 'trigger_label = "x\x85"\nbudgets = 1\n')
    assert str(caught.value).startswith(".repocrew.toml:2: budgets: must be a table")


def test_arrays_of_tables_count_their_items_nested_ones_too():
    text = "[[x]]\na = 1\n[[x]]\n[[x.y]]\nb = 2\n[[x.y]]\n[x.z]\nc = 3\n[[x]]\n"
    assert key_lines(text).explicit == {
        ("x", 0): 1,
        ("x", 0, "a"): 2,
        ("x", 1): 3,
        ("x", 1, "y", 0): 4,
        ("x", 1, "y", 0, "b"): 5,
        ("x", 1, "y", 1): 6,
        ("x", 1, "z"): 7,  # [x.z] after [[x]] belongs to the array's last item
        ("x", 1, "z", "c"): 8,
        ("x", 2): 9,
    }
    text = "[[a.b]]\n[[x]]\n[a.b.c]\nk = 1\n"  # a.b.c is in a.b's last item, [[x]] between
    assert key_lines(text).explicit == {
        ("a", "b", 0): 1,
        ("x", 0): 2,
        ("a", "b", 0, "c"): 3,
        ("a", "b", 0, "c", "k"): 4,
    }


def test_a_table_header_names_its_parents_and_a_later_header_is_their_line():
    lines = key_lines("[a.b.c]\n[a.b.d]\n[a]\nx = 1\n")
    assert lines.line(("a", "b")) == 1 and lines.line(("a", "b", "zz")) == 1
    assert lines.line(("a",)) == 3 and lines.line(("nope", "x")) == 1


def test_a_table_name_spelled_another_way_keeps_every_line():
    # tomlkit renders [a.b.d] with the first header's indent; no line moves.
    text = '  [a.b.c]\nx = 1\n["a" . b.d]\ny = 2\n'
    assert key_lines(text).explicit == {
        ("a", "b", "c"): 1,
        ("a", "b", "c", "x"): 2,
        ("a", "b", "d"): 3,
        ("a", "b", "d", "y"): 4,
    }


def test_keys_tomlkit_moves_are_left_out_not_misplaced():
    # tomlkit moves the second [[x]] up beside the first; from there on, no line is trusted.
    text = "[[x]]\na = 1\n[y]\nb = 2\n[[x]]\nc = 3\n"
    lines = key_lines(text)
    assert lines.explicit == {("x", 0): 1, ("x", 0, "a"): 2}
    assert lines.line(("y", "b")) == 1 and lines.line(("x", 1, "c")) == 1


@pytest.mark.parametrize(
    ("text", "truth"),
    [
        ("\n\na = " + "[" * 300 + "]" * 300 + "\n", {("a",): 3}),
        ("[[b]]\n[[a.b]]\n[[c]]\n[a.b.d]\n[[a.b]]\n", {("b", 0): 1, ("a", "b", 0): 2}),
    ],
)
def test_valid_toml_that_tomlkit_refuses_gives_no_wrong_line_and_no_error(text, truth):
    tomllib.loads(text)
    assert key_lines(text).explicit.items() <= truth.items()


def test_a_repo_file_error_inside_an_inline_table_after_a_long_string_names_its_line():
    text = 'trigger_label = """\nbudgets = 1\n"""\n\nbudgets = { run_usd = 0 }\n'
    with pytest.raises(ConfigError) as caught:
        apply_repo_overrides(load_crew(None), text)
    assert str(caught.value).startswith(".repocrew.toml:5: budgets.run_usd: must be greater")


# --- generated files whose key lines are known --------------------------------------------------

NAMES = ["a", "b", "x.y", "u v"]
VALUES = ["1", "'l # x'", '[\n  1, # ]\n  "]",\n]', '"""m\n[fake]\nk = 1"""', "{ p = 1, q.r = 2 }"]


@st.composite
def _documents(draw) -> tuple[str, dict]:
    """A TOML text and, for each key and header in it, its location and line."""
    lines: list[str] = []
    truth: dict = {}
    last_item: dict = {}  # per array of tables, its last index
    table: tuple = ()
    for _ in range(draw(st.integers(0, 10))):
        kind = draw(st.sampled_from(["key", "key", "table", "array", "comment"]))
        number = sum(line.count("\n") + 1 for line in lines) + 1
        indent = draw(st.sampled_from(["", "  "]))
        if kind == "comment":
            lines.append(indent + draw(st.sampled_from(["", "# k = 1", "# [t]"])))
            continue
        parts = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3))
        key = draw(st.sampled_from([".", " . "])).join(
            part if part.isalnum() else draw(st.sampled_from(['"{}"', "'{}'"])).format(part)
            for part in parts
        )
        if kind == "key":
            lines.append(f"{indent}{key} = {draw(st.sampled_from(VALUES))}")
            truth.setdefault((*table, *parts), number)
            continue
        table = ()
        for part in parts[:-1]:
            table += (part,)
            table += (last_item[table],) if table in last_item else ()
        table += (parts[-1],)
        if kind == "array":
            last_item[table] = last_item.get(table, -1) + 1
            table += (last_item[table],)
        lines.append(f"{indent}[{key}]" if kind == "table" else f"{indent}[[{key}]]")
        truth.setdefault(table, number)
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(lines) + newline, truth


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(document=_documents())
def test_every_placed_key_is_on_its_line_and_without_arrays_every_key_is_placed(document):
    text, truth = document
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        assume(False)  # a key written twice, a table declared twice: not TOML
    placed = key_lines(text).explicit
    assert placed.items() <= truth.items()
    if "[[" not in text:
        assert placed == truth
