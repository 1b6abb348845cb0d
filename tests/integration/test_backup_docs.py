"""The README's backup and restore commands work as written: run on a migrated store, what they
make holds the store at its current revision.
"""

from __future__ import annotations

import re
import shlex
import shutil
import sqlite3
import subprocess

import pytest

from bot.store.engine import make_engine
from bot.store.migrate import current_revision, head_revision, upgrade
from tests.conftest import REPO, fresh_postgres_database

README = (REPO / "README.md").read_text()
SECTION = README[README.index("**Backing up.**") : README.index("**Uninstalling.**")]


def commands(program: str) -> list[str]:
    """The code spans of the backup section that run `program`, joined across line breaks."""
    spans = re.findall(r"`([^`]+)`", SECTION.replace("\n  ", " "))
    return [span for span in spans if span.startswith(f"{program} ")]


def revision_of_sqlite(path) -> str:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]


@pytest.mark.parametrize("program", ["python3", "sqlite3"])
def test_the_sqlite_backup_copies_a_running_store(tmp_path, program):
    if shutil.which(program) is None:
        pytest.skip(f"{program} is not installed")
    (command,) = commands(program)
    engine = make_engine(f"sqlite:///{tmp_path / 'repocrew.db'}")
    try:
        upgrade(engine)
        with engine.connect():  # repocrew runs: the store is open, its WAL in use
            subprocess.run(shlex.split(command), cwd=tmp_path, check=True, timeout=60)
    finally:
        engine.dispose()
    assert revision_of_sqlite(tmp_path / "backup.db") == head_revision()


@pytest.mark.postgres
def test_the_postgresql_dump_restores_into_an_empty_database(postgres_server, tmp_path):
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump and pg_restore are not installed")
    (dump,) = commands("pg_dump")
    (restore,) = commands("pg_restore")
    with (
        fresh_postgres_database(postgres_server) as source,
        fresh_postgres_database(postgres_server) as target,
    ):
        engine = make_engine(source)
        upgrade(engine)
        engine.dispose()
        plain = {url: "postgresql://" + url.split("://", 1)[1] for url in (source, target)}
        dumped = shlex.split(re.sub(r'"postgresql://[^"]+"', plain[source], dump))
        subprocess.run(dumped, cwd=tmp_path, check=True, timeout=120, capture_output=True)
        restored = shlex.split(restore.replace("URL", plain[target]))
        subprocess.run(restored, cwd=tmp_path, check=True, timeout=120, capture_output=True)
        engine = make_engine(target)
        try:
            assert current_revision(engine) == head_revision()
        finally:
            engine.dispose()
