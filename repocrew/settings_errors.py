"""A setting that does not validate, told the way a person fixes it: the environment variable's
name (never the pydantic field's), what is wrong, what to write instead, and no secret.

A secret's value is never shown; of `REPOCREW_DATABASE_URL` only the scheme is, since a
malformed URL is exactly the one whose password nobody can find to cut out.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import AliasChoices, SecretStr, ValidationError
from pydantic.fields import FieldInfo

from bot.settings import Settings

SHOWN_CHARS = 40
SCHEME_ONLY = frozenset({"database_url"})  # it may carry a password


@dataclass(frozen=True)
class SettingProblem:
    """One invalid setting: the variable, what is wrong with its value, what to do."""

    variable: str
    wrong: str
    fix: str

    def line(self) -> str:
        return f"{self.variable}: {self.wrong}; {self.fix}"


def setting_problems(error: ValidationError) -> list[SettingProblem]:
    """Each invalid setting of a failed `Settings(...)`, in the order pydantic found them."""
    return [_problem(detail) for detail in error.errors(include_url=False)]


def settings_line(error: ValidationError) -> str:
    """Every problem on one line (a person fixes them together)."""
    if error.title != Settings.__name__:  # another model's: its own words, on one line
        return "; ".join(f"{'.'.join(map(str, d['loc']))}: {d['msg']}" for d in error.errors())
    return " | ".join(problem.line() for problem in setting_problems(error))


def variable_name(field: str) -> str:
    """The environment variable a field is read from (its first alias when it has them)."""
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info is not None else None
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    if field.isupper():  # pydantic-settings may report an alias as the location
        return field
    return f"REPOCREW_{field.upper()}"


def _problem(detail: Any) -> SettingProblem:
    field = str(detail["loc"][0]) if detail["loc"] else "settings"
    info = Settings.model_fields.get(field)
    message = str(detail["msg"]).removeprefix("Value error, ").removeprefix("Input ")
    wrong = f"{_shown(field, info, detail.get('input'))} {message}"
    return SettingProblem(variable_name(field), wrong, _fix(info))


def _shown(field: str, info: FieldInfo | None, value: Any) -> str:
    if info is not None and _is_secret(info):
        return "the value (hidden)"
    if not isinstance(value, str):
        return "the value"
    if field in SCHEME_ONLY:
        scheme, found, _rest = value.partition("://")
        return f"{scheme}://…" if found else "the value"
    shown = value if len(value) <= SHOWN_CHARS else value[:SHOWN_CHARS] + "…"
    return repr(shown)


def _fix(info: FieldInfo | None) -> str:
    if info is None:
        return "see README: Configuration"
    expected = _expected(info)
    unset = (
        "or unset it to leave it off"
        if info.default is None
        else f"or unset it for the default ({_default(info)})"
    )
    return f"set it to {expected}, {unset}" if expected else f"fix it, {unset}"


def _expected(info: FieldInfo) -> str:
    """What a valid value looks like, read from the field's type and constraints."""
    kind = _plain(info.annotation)
    if get_origin(kind) is Literal:
        return "one of " + ", ".join(str(choice) for choice in get_args(kind))
    names = {int: "a whole number", float: "a number", bool: "true or false"}
    if kind not in names:
        return ""
    bounds = []
    for constraint in info.metadata:
        if isinstance(constraint, annotated_types.Gt):
            bounds.append(f"greater than {constraint.gt}")
        elif isinstance(constraint, annotated_types.Ge):
            bounds.append(f"at least {constraint.ge}")
    return " ".join([names[kind], *bounds])


def _plain(annotation: Any) -> Any:
    """`int | None` → int: the type a value must have when it is set."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [arg for arg in get_args(annotation) if arg is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _is_secret(info: FieldInfo) -> bool:
    return _plain(info.annotation) is SecretStr


def _default(info: FieldInfo) -> str:
    default = info.default
    return (
        str(default)
        if not isinstance(default, float) or not default.is_integer()
        else str(int(default))
    )
