"""Shared fixtures: settings on a fresh store, the app under test, the corpus, PostgreSQL."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text

from bot.settings import Settings
from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from webhooks.app import create_app

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
GITHUB_SECRET = "test-github-secret"
SLACK_SECRET = "test-slack-signing-secret"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

# The longest modules (a minute or more on two cores: whole crews, kills, soaks) start first.
# xdist hands each process a run of tests and an idle one takes from another's unstarted end,
# so a long test met last would keep one process busy alone while the other waits.
LONG_FIRST = (
    "test_sprint_chaos",
    "test_chaos",
    "test_eval",
    "test_sprints",
    "test_soak",
    "test_demo",
    "test_demo_sprint",
    "test_crew_resume",
    "test_github_crew",
    "test_review_threads",
    "test_questions_crew",
    "test_cli_errors",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long modules first (a stable sort: each module's tests stay together and in order)."""

    def rank(item: pytest.Item) -> int:
        name = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        return LONG_FIRST.index(name) if name in LONG_FIRST else len(LONG_FIRST)

    items.sort(key=rank)


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is not at {CORPUS} (it sits beside the repository in CI)")
    return CORPUS


def _postgres_admin_url() -> str:
    return os.environ.get("REPOCREW_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The admin URL of a reachable PostgreSQL server, or a skip (a failure where required)."""
    url = _postgres_admin_url()
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as error:  # noqa: BLE001 - any failure means "no server here"
        if os.environ.get("REPOCREW_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required but unreachable at {url}: {error}")
        pytest.skip(f"no PostgreSQL server reachable at {url}")
    return url


@contextmanager
def fresh_postgres_database(server_url: str, *, template: str | None = None) -> Iterator[str]:
    """A fresh database on the server (empty, or a copy of `template`), dropped afterwards."""
    name = f"repocrew_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        copy = f' TEMPLATE "{template}"' if template else ""
        connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    try:
        yield f"{server_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    with fresh_postgres_database(postgres_server) as url:
        yield url


STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """A SQLite store migrated once per test process, for `fresh_store` to copy."""
    path = tmp_path_factory.mktemp("migrated") / "repocrew.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection out folds the WAL into the file
    return path


@pytest.fixture(scope="session")
def migrated_postgres(postgres_server: str) -> Iterator[str]:
    """A PostgreSQL database migrated once per test process: `fresh_store` makes its databases
    from it, a file copy on the server instead of every migration each."""
    with fresh_postgres_database(postgres_server) as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()  # a template may have no connections when it is copied
        yield url.rsplit("/", 1)[1]


@contextmanager
def fresh_store(request, kind: str, directory: Path) -> Iterator[str]:
    """The URL of a new store of the given kind, migrated and with no rows."""
    if kind == "sqlite":
        path = directory / f"repocrew-{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        yield f"sqlite:///{path}"
    else:
        server = request.getfixturevalue("postgres_server")
        template = request.getfixturevalue("migrated_postgres")
        with fresh_postgres_database(server, template=template) as url:
            yield url


@pytest.fixture(params=STORES)
def database_url(request, tmp_path: Path) -> Iterator[str]:
    """Each store test runs on SQLite and, where a server is reachable, on PostgreSQL."""
    with fresh_store(request, request.param, tmp_path) as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module", params=STORES)
def shared_intake(request, tmp_path_factory):
    """One app and store for a whole module of corpus tests: (client, engine).

    Tests tell their rows apart by delivery id, so hundreds of samples share one store.
    """
    with fresh_store(request, request.param, tmp_path_factory.mktemp("intake")) as url:
        engine = make_engine(url)
        with TestClient(create_app(make_settings(url), engine=engine)) as client:
            yield client, engine
        engine.dispose()


def make_settings(database_url: str, **overrides) -> Settings:
    values = {
        "database_url": database_url,
        "github_webhook_secret": GITHUB_SECRET,
        "slack_signing_secret": SLACK_SECRET,
        "slack_bot_token": "xoxb-test-token",
        # Nothing listens on the discard port: a test that posts without its own Slack emulator
        # is refused at once instead of reaching for slack.com.
        "slack_api_url": "http://127.0.0.1:9/api/",
        "job_backoff_seconds": 0.05,
        "worker_poll_seconds": 0.05,
    }
    values.update(overrides)
    # _env_file=None: a developer's .env must not leak into tests.
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine=engine)) as test_client:
        yield test_client
