"""The one protected set: the paths no role changes and the secret files no tool reads.

Built in here, in one place: the operator's crew file may add paths (`protected_paths`), let a
role change some of them (`may_edit`) and let the tools read some secret files
(`readable_secrets`); a repository's `.repocrew.toml` may only add paths. `.git` is never
writable, whatever the configuration says: a hook or a config there runs code on the worker.

What is protected is what runs with more trust than the change itself: CI and its actions,
the configuration of the crew and of coding agents, editors and dev containers (they run
commands when a developer opens the repository), git's own attributes and submodules, commit
hooks, and the files that hold credentials.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.roster.globs import GlobSet

# Writing into a .git directory (hooks, config) is code execution the next time git runs.
ALWAYS_PROTECTED: tuple[str, ...] = ("**/.git", "**/.git/**")

# Files that hold credentials, at any depth: unreadable to the tools, hidden in the sandbox.
SECRET_FILES: tuple[str, ...] = (
    "**/.env",
    "**/.env.*",
    "**/*.pem",
    "**/*.key",
    "**/id_rsa*",
    "**/id_ed25519*",
    "**/id_ecdsa*",
    "**/id_dsa*",
    "**/.npmrc",
    "**/.pypirc",
    "**/.netrc",
    "**/.git-credentials",
    "**/secrets.yml",
    "**/secrets.yaml",
    "**/secrets.json",
    "**/secrets.toml",
)

# Files that make something run with more trust than the change: CI, agents, editors, hooks.
RUNS_CODE: tuple[str, ...] = (
    ".github/**",
    "**/CODEOWNERS",
    ".gitlab-ci.yml",
    ".gitlab/**",
    ".circleci/**",
    ".buildkite/**",
    ".travis.yml",
    "azure-pipelines.yml",
    "Jenkinsfile",
    ".repocrew.toml",
    "/crew.toml",
    "**/.claude/**",
    ".mcp.json",
    "**/.cursor/**",
    ".cursorrules",
    ".windsurfrules",
    "**/.vscode/**",
    "**/.idea/**",
    "**/.devcontainer/**",
    ".devcontainer.json",
    "**/.envrc",
    "**/.gitmodules",
    "**/.gitattributes",
    ".pre-commit-config.yaml",
    ".pre-commit-hooks.yaml",
    "**/.husky/**",
    "**/.yarnrc",
    "**/.yarnrc.yml",
)

BUILT_IN: tuple[str, ...] = (*ALWAYS_PROTECTED, *RUNS_CODE, *SECRET_FILES)


@dataclass(frozen=True)
class Protection:
    """What one role may not change, and what no tool may read.

    A path is protected when it matches `protected` and not the role's `may_edit`, or when it
    is in `.git`; unreadable when it matches `unreadable` and not the operator's
    `readable_secrets`. Every match is case-insensitive and tries the path's other spellings
    (see `bot.roster.globs.spellings`).
    """

    protected: tuple[str, ...] = BUILT_IN
    may_edit: tuple[str, ...] = ()
    unreadable: tuple[str, ...] = SECRET_FILES
    readable: tuple[str, ...] = ()
    _sets: dict[str, GlobSet] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("protected", "may_edit", "unreadable", "readable"):
            self._sets[name] = GlobSet(getattr(self, name))
        self._sets["always"] = GlobSet(ALWAYS_PROTECTED)

    def blocks_change(self, relative: str) -> bool:
        sets = self._sets
        if sets["always"].matches(relative):
            return True
        return sets["protected"].matches(relative) and not sets["may_edit"].matches(relative)

    def blocks_read(self, relative: str) -> bool:
        sets = self._sets
        return sets["unreadable"].matches(relative) and not sets["readable"].matches(relative)


def protection(
    added: Iterable[str] = (),
    *,
    may_edit: Iterable[str] = (),
    readable_secrets: Iterable[str] = (),
) -> Protection:
    """The built-in set plus the configuration's additions (`protected_paths`), less what the
    role may edit, with the secret files the operator lets the tools read."""
    return Protection(
        protected=(*BUILT_IN, *added),
        may_edit=tuple(may_edit),
        unreadable=SECRET_FILES,
        readable=tuple(readable_secrets),
    )
