"""Reading crew.toml and a repository's .repocrew.toml, with errors that name file, line and key.

tomllib, the standard library's strict parser, judges the text and gives the data; tomlkit
only places keys (`toml_lines`). tomlkit does not judge: it accepts some invalid TOML (a table
declared twice, in some orders), refuses or fails to unwrap some valid TOML ([[a.b]] [x]
[[a.b.c]]), and its errors place a table declared twice where the second one ends and count
U+2028 as a line.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.roster import models as config
from bot.roster.models import Crew
from bot.roster.tighten import KEPT_LISTS, raises
from bot.roster.toml_lines import KeyLines, key_lines

ROSTERS: tuple[str, ...] = ("default", "product-team")

REPO_CONFIG = ".repocrew.toml"  # a repository's own tuning of the crew, on its default branch

# What a repository's .repocrew.toml may set. Its content is untrusted: it may tune the crew's
# work, never its credentials, its Slack channel, or the prices its budgets are counted in.
REPO_KEYS = tuple(
    "trigger_label branch_prefix protected_paths tests environment budgets review research roles"
    " steps lead voters vote_threshold prompts sprint".split()
)
CREDENTIALS = {"github": ("app_id", "private_key_path"), "slack": ("bot_token_env",)}
# Only the operator may let a role change protected paths; a repository may only add some.
ROLE_OPERATOR_ONLY = ("may_edit",)
# Running a repository's own test command outside the sandbox is the operator's call alone.
OPERATOR_ONLY = (("tests", "allow_unsandboxed"), ("tests", "skip_without_sandbox"))

_MODELS = (config.Crew, config.Role, config.GitHubIdentity, config.SlackIdentity, config.Budgets)
_MODELS += (config.Price, config.TestsConfig, config.EnvironmentConfig, config.ReviewConfig)
_MODELS += (config.ResearchConfig, config.SprintConfig, config.ChannelsConfig)
_FIELD_NAMES = sorted({"prompts"} | {name for model in _MODELS for name in model.model_fields})
_BARE_PART = re.compile(r"[A-Za-z0-9_-]+")
_AT_LINE = re.compile(r"\s*\(at line (\d+), column \d+\)$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config file, where it is, and what to do."""

    source: str
    line: int | None  # None: the problem is not in a file's text
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}:" if self.line is None else f"{self.source}:{self.line}:"
        return f"{where} {self.key}: {self.message}" if self.key else f"{where} {self.message}"


class ConfigError(ValueError):
    """Invalid crew configuration; str() is one `path:line: dotted.key: message` per problem."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in problems))


def roster_text(name: str) -> str:
    """The TOML text of a roster that ships with repocrew."""
    if name not in ROSTERS:
        message = f"unknown roster {name!r}; choose one of: {', '.join(ROSTERS)}"
        raise ConfigError([Problem("--roster", None, "", message)])
    return (resources.files("bot.roster") / "rosters" / f"{name}.toml").read_text(encoding="utf-8")


def load_crew(path: Path | None) -> Crew:
    """The crew from a roster file; no path, or no file there, means the packaged default."""
    if path is None or not path.is_file():
        return parse_crew(roster_text("default"), source="rosters/default.toml")
    return parse_crew(path.read_text(encoding="utf-8"), source=str(path))


def parse_crew(text: str, *, source: str) -> Crew:
    """Validate a whole roster file's text."""
    data = _parse_toml(text, source)
    lines = key_lines(text)
    for key in {"prompts", "prompt_overrides"} & set(data):
        message = "[prompts] belongs in a repository's .repocrew.toml; here set roles.<key>.prompt"
        raise ConfigError([Problem(source, lines.line((key,)), key, message)])
    return _validate(data, source=source, lines=lines)


def apply_repo_overrides(crew: Crew, text: str, *, source: str = ".repocrew.toml") -> Crew:
    """The crew with a repository's overrides merged in (tables deeply, values replaced)."""
    overrides = _parse_toml(text, source)
    lines = key_lines(text)
    refused = [
        Problem(source, lines.line(loc), _dotted(loc), message)
        for loc, message in _refusals(overrides)
    ]
    if refused:
        raise ConfigError(refused)
    added = overrides.get("protected_paths")
    if isinstance(added, list):  # they add to the operator's, never replace them
        overrides = {**overrides, "protected_paths": [*crew.protected_paths, *added]}
    overrides = _kept_lists(crew, overrides)
    merged = _validate(
        _deep_merge(crew.model_dump(by_alias=True), overrides), source=source, lines=lines
    )
    raised = [
        Problem(source, lines.line(loc), _dotted(loc), text) for loc, text in raises(crew, merged)
    ]
    if raised:
        raise ConfigError(sorted(raised, key=lambda p: (p.line or 0, p.key)))
    return merged


def _kept_lists(crew: Crew, overrides: dict[str, Any]) -> dict[str, Any]:
    """The review's ignore lists a repository sets add to the operator's, like protected paths."""
    review = overrides.get("review")
    if not isinstance(review, dict):
        return overrides
    review = dict(review)
    for section, name in KEPT_LISTS:
        if isinstance(review.get(name), list):
            review[name] = [*getattr(getattr(crew, section), name), *review[name]]
    return {**overrides, "review": review}


def _refusals(overrides: dict[str, Any]) -> list[tuple[tuple[str, ...], str]]:
    refusals = []
    for key in overrides:
        if key in REPO_KEYS:
            continue
        if key in Crew.model_fields:
            message = f"set in crew.toml, not by a repository (a repository may set: {_keys()})"
        else:
            message = (
                f"unknown key{_did_you_mean(key, REPO_KEYS)} (a repository may set: {_keys()})"
            )
        refusals.append(((key,), message))
    for table, name in OPERATOR_ONLY:
        if isinstance(overrides.get(table), dict) and name in overrides[table]:
            refusals.append(((table, name), "only crew.toml may set this, not a repository"))
    roles = overrides.get("roles")
    for role_key, role in roles.items() if isinstance(roles, dict) else ():
        for name in ROLE_OPERATOR_ONLY if isinstance(role, dict) else ():
            if name in role:
                message = "only crew.toml may let a role change protected paths"
                refusals.append((("roles", role_key, name), message))
        for table, names in CREDENTIALS.items():
            identity = role.get(table) if isinstance(role, dict) else None
            for name in names if isinstance(identity, dict) else ():
                if name in identity:
                    message = "a repository may not set role credentials; set them in crew.toml"
                    refusals.append((("roles", role_key, table, name), message))
    return refusals


def _keys() -> str:
    return ", ".join(REPO_KEYS)


def _parse_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # Python 3.11's TOMLDecodeError has no lineno attribute; the line is in the message.
        message = str(error)
        found = _AT_LINE.search(message)
        line = int(found.group(1)) if found else 1
        reason = _AT_LINE.sub("", message)
        raise ConfigError([Problem(source, line, "", f"TOML syntax: {reason}")]) from None


def _validate(data: dict[str, Any], *, source: str, lines: KeyLines) -> Crew:
    try:
        return Crew.model_validate(data)
    except ValidationError as error:
        problems: dict[tuple[str | int, ...], Problem] = {}
        for detail in error.errors():
            loc = _data_path(data, detail["loc"])
            # A union reports once per member; the first message is the clearest.
            problems.setdefault(
                loc, Problem(source, lines.line(loc), _dotted(loc), _message(detail, loc))
            )
        raise ConfigError(sorted(problems.values(), key=lambda p: (p.line, p.key))) from None


def _data_path(data: Any, loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """The error's location as keys of the file, without pydantic's union-member tags."""
    path: list[str | int] = []
    current = data
    for part in loc:
        if isinstance(current, dict) and isinstance(part, str):
            path.append(part)
            current = current.get(part)
        elif isinstance(current, list | tuple) and isinstance(part, int):
            path.append(part)
            current = current[part] if part < len(current) else None
        else:  # a union member's tag, or below a missing key: not a place in the file
            break
    return tuple(path)


def _dotted(loc: tuple[str | int, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            key = part if _BARE_PART.fullmatch(part) else f'"{part}"'
            text += f".{key}" if text else key
    return text


def _message(detail: Any, loc: tuple[str | int, ...]) -> str:
    kind = detail["type"]
    if kind == "extra_forbidden":
        return f"unknown key{_did_you_mean(str(loc[-1]), _FIELD_NAMES)}"
    if kind == "missing":
        return "required key is missing"
    message = str(detail["msg"]).removeprefix("Value error, ")
    message = re.sub(r"^\w+ should ", "must ", message)
    # Say it in TOML's words: arrays and tables, not tuples and dictionaries.
    message = message.replace("a valid tuple", "an array").replace("a valid list", "an array")
    message = message.replace("a valid dictionary", "a table")
    value = detail.get("input")
    if kind not in ("crew", "value_error") and isinstance(value, str | int | float):
        message += f" (got {value!r})"
    return message


def _did_you_mean(key: str, names: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, names, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _deep_merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
