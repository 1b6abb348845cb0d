"""The workspace's own secrets: read from its files, recognised in every encoding they leave in."""

from __future__ import annotations

import base64
import codecs
import json
import time
from urllib.parse import quote, quote_plus

import pytest

from bot.roster.globs import GlobSet
from bot.roster.protected import SECRET_FILES
from bot.sandbox.layout import Layout, empty_file, secret_files
from bot.security.file_secrets import secret_settings, workspace_secrets
from bot.security.secrets import SecretLeak, SecretScanner

PASSWORD = "hunter2-Correct-Horse-Battery-77"
IS_SECRET = GlobSet(SECRET_FILES).matches


def _tree(root, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_values_come_from_secret_files_and_secret_looking_settings(tmp_path):
    _tree(
        tmp_path,
        {
            ".env": f"# comment\nexport DB_PASSWORD='{PASSWORD}'\nDEBUG=1\nNAME=my-service-name\n",
            "deploy/.npmrc": "//registry.npmjs.org/:_authToken=npm_TokenValue12345\n",
            "ci/.netrc": "machine example.com login robot password netrc-Pass-9876\n",
            "config/app.yaml": 'database:\n  password: "yaml-Pass-5432"\n  host: db.internal\n',
            "settings.json": '{"api_key": "json-Key-abcdef12", "title": "long enough title"}\n',
            "src/app.py": 'PASSWORD = "source-is-not-read-1"\n',
            "config/example.toml": 'token = "${TOKEN}"\nsecret = "changeme-please"\n',
            ".git/config": "[credential]\n\tpassword = in-git-dir-123\n",
        },
    )
    found = set(workspace_secrets(tmp_path, IS_SECRET))
    assert {PASSWORD, "my-service-name", "npm_TokenValue12345", "netrc-Pass-9876"} <= found
    assert {"yaml-Pass-5432", "json-Key-abcdef12"} <= found
    # Not secret-looking names in ordinary files, source code, placeholders, .git: left out.
    assert not found & {"db.internal", "long enough title", "source-is-not-read-1"}
    assert not found & {"${TOKEN}", "changeme-please", "in-git-dir-123", "1"}


def test_a_key_file_is_known_whole(tmp_path):
    body = base64.b64encode(bytes(range(48))).decode()
    key = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----\n"
    _tree(tmp_path, {"deploy/id_ed25519": key})
    scanner = SecretScanner(workspace_secrets(tmp_path, IS_SECRET))
    with pytest.raises(SecretLeak):
        scanner.check_outgoing(f"line: {body}", where="comment")


ENCODINGS = {
    "plain": lambda v: v,
    "hex": lambda v: v.encode().hex(),
    "HEX": lambda v: v.encode().hex().upper(),
    "base64": lambda v: base64.b64encode(v.encode()).decode(),
    "base64 unpadded": lambda v: base64.b64encode(v.encode()).decode().rstrip("="),
    "base64url": lambda v: base64.urlsafe_b64encode(v.encode()).decode(),
    "base64 mid-stream": lambda v: base64.b64encode(f"DB={v};".encode()).decode(),
    "hex mid-stream": lambda v: f"DB={v}\n".encode().hex(),
    "url": lambda v: quote(v, safe=""),
    "url plus": lambda v: quote_plus(v),
    "json": lambda v: json.dumps(v),
    "reversed": lambda v: v[::-1],
}


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_encoding_of_a_workspace_secret_is_refused(tmp_path, encoding):
    _tree(tmp_path, {"app/.env": f"DB_PASSWORD={PASSWORD}\n"})
    scanner = SecretScanner(workspace_secrets(tmp_path, IS_SECRET))
    text = f"Debug output: {ENCODINGS[encoding](PASSWORD)} (see above)"
    with pytest.raises(SecretLeak) as caught:
        scanner.check_outgoing(text, where="commit message")
    assert PASSWORD not in str(caught.value)  # names the kind, never the value
    assert "[REDACTED:known_secret]" in scanner.redact(text)


def test_unrelated_text_passes(tmp_path):
    _tree(tmp_path, {".env": f"DB_PASSWORD={PASSWORD}\n"})
    scanner = SecretScanner(workspace_secrets(tmp_path, IS_SECRET))
    scanner.check_outgoing("Validate parsed ages: " + codecs.encode(PASSWORD, "rot13"), where="x")


def test_a_large_workspace_is_read_and_scanned_quickly(tmp_path):
    files = {f"svc{i}/.env": f"TOKEN_{i}=value-{i:04d}-abcdefgh\n" for i in range(300)}
    files |= {f"src/mod{i}.py": "x = 1\n" * 50 for i in range(2000)}
    _tree(tmp_path, files)
    started = time.monotonic()
    values = workspace_secrets(tmp_path, IS_SECRET)
    scanner = SecretScanner(values)
    read = time.monotonic() - started
    text = "harmless diff line\n" * 10_000  # ~190 KB, a large tool result
    started = time.monotonic()
    scanner.find(text)
    scanned = time.monotonic() - started
    assert len(values) == 300
    assert read < 10 and scanned < 5, (read, scanned)


def test_the_sandbox_shows_secret_files_empty_unless_the_operator_opts_in(tmp_path):
    _tree(
        tmp_path,
        {".env": "A=b\n", "app/.env.local": "A=b\n", "certs/x.pem": "x", "src/a.py": "", "v": ""},
    )
    (tmp_path / "link.env").symlink_to(tmp_path / "v")
    (tmp_path / "node_modules/pkg").mkdir(parents=True)
    (tmp_path / "node_modules/pkg/test.pem").write_text("fixture")
    args = Layout(readable_secrets=("app/.env.local",)).bwrap_args(tmp_path)
    masked = [
        args[i + 2] for i, arg in enumerate(args) if args[i + 1 : i + 2] == [str(empty_file())]
    ]
    assert masked == [f"{tmp_path}/.env", f"{tmp_path}/certs/x.pem"]
    assert empty_file().read_bytes() == b""
    assert secret_files(tmp_path) == [".env", "app/.env.local", "certs/x.pem"]


def test_the_tests_secret_looking_settings_are_known():
    env = {"DATABASE_PASSWORD": "pg-Pass-123456", "PYTEST_ADDOPTS": "-q --no-header -x", "X": "1"}
    assert secret_settings(env) == ["pg-Pass-123456"]
