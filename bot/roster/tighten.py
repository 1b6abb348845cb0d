"""A repository's `.repocrew.toml` may only tighten what the operator's crew file allows.

Budgets, turn and token limits, the tests' limits, the reviewer's and researcher's reach, and
the tools a role has may be lowered by a repository, never raised: its content is untrusted,
and a raise would spend the operator's money or hand a role powers the operator did not give.
A step given to another role is judged the same way: that role may not have tools (or
protected paths it may change) the operator's role for the step lacks. A new role counts
against the most the operator gave any role.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot.roster.models import Crew, Role

Loc = tuple[str, ...]
RAISE = "a repository may lower this, never raise it"

# (section, field): numbers a repository may only lower.
CEILINGS: tuple[tuple[str, str], ...] = (
    ("budgets", "run_usd"),
    ("budgets", "day_usd"),
    ("budgets", "run_tokens"),  # None: no token limit, the highest
    ("tests", "wall_seconds"),
    ("tests", "cpu_seconds"),
    ("tests", "memory_mb"),
    ("review", "max_findings"),
    ("review", "max_diff_bytes"),
    ("review", "day_usd"),
    ("review", "max_files"),
    ("review", "max_changed_lines"),
    ("research", "max_searches"),
    ("sprint", "max_parallel_runs"),
)
# (section, field): switches a repository may turn off, never on.
SWITCHES: tuple[tuple[str, str], ...] = (
    ("review", "may_approve"),
    ("review", "unasked"),
    ("research", "web_search"),
)
# (section, field): switches a repository may turn on, never off (they narrow what runs).
FLOORS: tuple[tuple[str, str], ...] = (("review", "skip_drafts"), ("review", "skip_bots"))
# (section, field): lists a repository adds to; the operator's entries stay.
KEPT_LISTS: tuple[tuple[str, str], ...] = (
    ("review", "ignore_authors"),
    ("review", "ignore_branches"),
    ("review", "ignore_paths"),
)
ROLE_CEILINGS = ("max_turns", "max_tokens")


def raises(operator: Crew, merged: Crew) -> list[tuple[Loc, str]]:
    """Where `merged` (the operator's crew with a repository's file) gives more than
    `operator`: the key's place in the repository's file and a message naming both values."""
    return [*_settings(operator, merged), *_roles(operator, merged), *_steps(operator, merged)]


def _more(old: Any, new: Any) -> bool:
    if isinstance(old, bool):
        return bool(new) and not old
    if old is None:
        return False  # the operator set no limit: any is lower
    return new is None or new > old


def _said(loc: Loc, old: Any, new: Any) -> tuple[Loc, str]:
    return loc, f"{RAISE} (crew.toml: {_show(old)}; here: {_show(new)})"


def _show(value: Any) -> str:
    if value is None:
        return "no limit"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _settings(operator: Crew, merged: Crew) -> Iterator[tuple[Loc, str]]:
    for section, name in (*CEILINGS, *SWITCHES):
        old = getattr(getattr(operator, section), name)
        new = getattr(getattr(merged, section), name)
        if _more(old, new):
            yield _said((section, name), old, new)
    for section, name in FLOORS:
        old = getattr(getattr(operator, section), name)
        if old and not getattr(getattr(merged, section), name):
            yield (section, name), "a repository may turn this on, never off (crew.toml: true)"
    for section, name in KEPT_LISTS:
        kept = set(getattr(getattr(merged, section), name))
        dropped = [v for v in getattr(getattr(operator, section), name) if v not in kept]
        if dropped:
            yield (section, name), f"a repository may add to this, never drop {_names(dropped)}"


def _ceiling(operator: Crew, key: str, name: str) -> Any:
    role = operator.roles.get(key)
    if role is not None:
        return getattr(role, name)
    return max(getattr(r, name) for r in operator.roles.values())


def _roles(operator: Crew, merged: Crew) -> Iterator[tuple[Loc, str]]:
    every_tool = {tool for role in operator.roles.values() for tool in role.tools}
    for key, role in merged.roles.items():
        for name in ROLE_CEILINGS:
            old, new = _ceiling(operator, key, name), getattr(role, name)
            if _more(old, new):
                yield _said(("roles", key, name), old, new)
        known = operator.roles.get(key)
        allowed = set(known.tools) if known is not None else every_tool
        added = [tool for tool in role.tools if tool not in allowed]
        if added:
            yield ("roles", key, "tools"), f"{RAISE}: the operator's {key} has no {_names(added)}"


def _steps(operator: Crew, merged: Crew) -> Iterator[tuple[Loc, str]]:
    for step, key in merged.steps.items():
        before = operator.steps.get(step)
        if before is None or before == key:
            continue
        given, assigned = operator.roles[before], merged.roles[key]
        extra = _beyond(given, assigned)
        if extra:
            message = f"{RAISE}: {key} has {extra} the operator's {before} lacks for this step"
            yield ("steps", step), message


def _beyond(given: Role, assigned: Role) -> str:
    tools = [tool for tool in assigned.tools if tool not in given.tools]
    paths = [path for path in assigned.may_edit if path not in given.may_edit]
    found = [f"tools {_names(tools)}"] if tools else []
    found += [f"protected paths it may change ({_names(paths)})"] if paths else []
    return " and ".join(found)


def _names(items: list[str]) -> str:
    return ", ".join(f"`{item}`" for item in items)
