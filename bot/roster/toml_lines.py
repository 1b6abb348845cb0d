"""The line of each key in a TOML text, from tomlkit's parse, which keeps every character.

tomllib judges the text and gives the data but keeps no positions. tomlkit renders a parsed
document back to its exact text, so a key's line is one plus the newlines rendered before it:
walk the document in source order and count them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Item, Key, Table

Loc = tuple[str | int, ...]
_SPELLING = re.compile(r"[\s\"']")


@dataclass
class KeyLines:
    """Where each key of a TOML text is defined: tables, dotted keys, array-of-tables items."""

    explicit: dict[Loc, int] = field(default_factory=dict)
    implicit: dict[Loc, int] = field(default_factory=dict)  # parents first named inside a path

    def record(self, path: Loc, line: int) -> None:
        self.explicit.setdefault(path, line)
        for end in range(1, len(path)):
            self.implicit.setdefault(path[:end], line)

    def line(self, loc: Loc) -> int:
        """The line of the key, else of the nearest table holding it, else 1."""
        for end in range(len(loc), 0, -1):
            for known in (self.explicit, self.implicit):
                if loc[:end] in known:
                    return known[loc[:end]]
        return 1


def key_lines(text: str) -> KeyLines:
    """Index the lines of keys in TOML that tomllib accepted; keys it cannot place are left out."""
    lines = KeyLines()
    try:
        document = tomlkit.parse(text)
    except TOMLKitError:  # tomlkit refuses a little valid TOML (deep nesting, some [[a.b]])
        return lines
    walk = _Walk()
    walk.body(document.body, ())
    rendered = document.as_string()
    if walk.line != rendered.count("\n") + 1:  # the walk missed some rendered text
        return lines
    in_place = _lines_in_place(rendered, text)
    for path, line in walk.places:
        if line <= in_place:
            lines.record(path, line)
    return lines


def _lines_in_place(rendered: str, text: str) -> int:
    """How many lines tomlkit renders where the text has them: past that, counted lines are wrong.

    tomlkit moves a reopened [[array]] next to the array's first part. It may also re-spell a
    table's name (spaces, quotes), which moves no line.
    """
    ours, theirs = rendered.split("\n"), text.split("\n")
    for number, (mine, its) in enumerate(zip(ours, theirs, strict=False), 1):
        if _SPELLING.sub("", mine) != _SPELLING.sub("", its):
            return number - 1
    return min(len(ours), len(theirs))


class _Walk:
    """Visits a parsed document in source order, counting the newlines rendered before each key."""

    def __init__(self) -> None:
        self.line = 1
        self.places: list[tuple[Loc, int]] = []
        self.last_element: dict[Loc, int] = {}  # per array of tables, its last index so far

    def body(self, body: list[tuple[Key | None, Item]], path: Loc) -> None:
        for key, item in body:
            if key is None:  # whitespace or a comment line
                self.line += item.as_string().count("\n")
                continue
            loc = (*path, *(part.key for part in key))
            if isinstance(item, AoT):
                for table in item.body:
                    index = self.last_element[loc] = self.last_element.get(loc, -1) + 1
                    self.table(table, (*loc, index), header=True)
            elif isinstance(item, Table):
                if loc in self.last_element:  # [a.b] after [[a]] extends a's last element
                    loc = (*loc, self.last_element[loc])
                # A super table (a of [a.b], or of a.b = 1) has no text of its own.
                self.table(item, loc, header=not item.is_super_table())
            else:  # a value; arrays and inline tables are placed as a whole
                self.place(item.trivia.indent, loc)
                self.line += (item.as_string() + item.trivia.trail).count("\n")

    def table(self, table: Table, loc: Loc, *, header: bool) -> None:
        if header:
            self.place(table.trivia.indent, loc)
            self.line += table.trivia.trail.count("\n")
        self.body(table.value.body, loc)

    def place(self, indent: str, loc: Loc) -> None:
        self.line += indent.count("\n")
        self.places.append((loc, self.line))
