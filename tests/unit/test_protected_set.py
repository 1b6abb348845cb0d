"""The one protected set: what it covers, the spellings it sees through, and who may shrink it."""

from __future__ import annotations

import pytest

from bot.roster.loader import ConfigError, apply_repo_overrides, load_crew
from bot.roster.protected import BUILT_IN, SECRET_FILES, Protection, protection

RUNS_CODE = [
    ".github/workflows/ci.yml",
    ".github/actions/setup/action.yml",
    ".github/CODEOWNERS",
    ".github/dependabot.yml",
    "CODEOWNERS",
    "docs/CODEOWNERS",
    ".repocrew.toml",
    "crew.toml",
    ".claude/settings.json",
    "packages/web/.claude/settings.local.json",
    ".cursor/rules/x.mdc",
    ".vscode/tasks.json",
    ".devcontainer/devcontainer.json",
    ".gitmodules",
    ".gitattributes",
    "sub/.gitattributes",
    ".pre-commit-config.yaml",
    ".husky/pre-commit",
    ".git",
    ".git/hooks/pre-push",
    "vendor/x/.git/config",
    ".mcp.json",
    ".envrc",
]
SECRETS = [
    ".env",
    "app/.env",
    "app/.env.production",
    "deploy/id_rsa",
    "home/.ssh/id_ed25519.pub",
    "x/.npmrc",
    ".pypirc",
    "ci/.netrc",
    "tls/server.pem",
    "tls/server.key",
    "config/secrets.yml",
]
# Other spellings of protected paths: case, `./`, `..`, `//`, backslashes, trailing dots and
# spaces, NTFS streams, full-width letters, Cyrillic and Turkish look-alikes, invisible marks.
TRICKY = [
    ".GITHUB/workflows/ci.yml",
    "./.github//workflows/ci.yml",
    "src/../.github/workflows/ci.yml",
    "a/b/../../.claude/settings.json",
    ".github\\workflows\\ci.yml",
    ".github/",
    ".Claude/Settings.json",
    ".env.",
    ".env ",
    "app/.env::$DATA",
    "\uff0egithub/workflows/ci.yml",  # full-width full stop
    ".\u0435nv",  # Cyrillic e
    ".g\u0131thub/workflows/ci.yml",  # dotless i
    ".e\u200bnv",  # zero-width space
    ".vscod\u0435/tasks.json",
    "Deploy/ID_RSA",
    "x/.NPMRC",
]
ORDINARY = [
    "src/app.py",
    "README.md",
    ".gitignore",
    "github/ci.yml",
    "docs/env.md",
    "environment.py",
    "keys.py",
    "src/secrets.py",
    ".github-notes.md",
    "sub/crew.toml",
]


@pytest.mark.parametrize("path", RUNS_CODE + SECRETS + TRICKY)
def test_the_built_in_set_protects(path):
    assert Protection().blocks_change(path), path


@pytest.mark.parametrize("path", SECRETS + [".ENV", "app\\.env", "./x/../.env.local", ".\u0435nv"])
def test_secret_files_are_unreadable(path):
    assert Protection().blocks_read(path), path


@pytest.mark.parametrize("path", ORDINARY)
def test_ordinary_files_are_free(path):
    assert not Protection().blocks_change(path) and not Protection().blocks_read(path)


def test_may_edit_opens_a_path_for_a_role_but_never_git():
    devops = protection(may_edit=[".github/workflows/**", ".git/**"])
    assert not devops.blocks_change(".github/workflows/ci.yml")
    assert devops.blocks_change(".github/actions/setup/action.yml")
    assert devops.blocks_change(".git/hooks/pre-push")


def test_the_operator_adds_paths_and_readable_secrets():
    guarded = protection(["deploy/**"], readable_secrets=["config/.env.test"])
    assert guarded.blocks_change("deploy/prod.yml") and guarded.blocks_change(".vscode/x.json")
    assert not guarded.blocks_read("config/.env.test") and guarded.blocks_read(".env")


def test_the_set_is_defined_once():
    assert set(SECRET_FILES) <= set(BUILT_IN)
    assert load_crew(None).protected_paths == ()  # the roster adds nothing it needs to repeat


def test_a_repository_only_adds_protected_paths():
    crew = load_crew(None).model_copy(update={"protected_paths": ("deploy/**",)})
    merged = apply_repo_overrides(crew, 'protected_paths = ["infra/**"]\n')
    assert merged.protected_paths == ("deploy/**", "infra/**")
    emptied = apply_repo_overrides(crew, "protected_paths = []\n")
    assert emptied.protected_paths == ("deploy/**",)


@pytest.mark.parametrize(
    "text, key",
    [
        ('[roles.coder]\nmay_edit = [".github/**"]\n', "roles.coder.may_edit"),
        ('readable_secrets = [".env"]\n', "readable_secrets"),
    ],
)
def test_a_repository_cannot_open_paths(text, key):
    with pytest.raises(ConfigError) as caught:
        apply_repo_overrides(load_crew(None), text)
    assert ".repocrew.toml:" in str(caught.value) and key in str(caught.value)
