"""Engines for the store: SQLite tuned for durability and concurrency, or PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, DisconnectionError, SQLAlchemyError
from sqlmodel import Session

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CACHE_KIB = 64 * 1024
SQLITE_MMAP_BYTES = 256 * 1024 * 1024
PING_AFTER_IDLE_SECONDS = 1.0
# The execution option `reading` sets on SQLite: its transaction begins deferred, not IMMEDIATE.
READS_ONLY = "repocrew_reads_only"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


# Beside the job slots: the worker's feeder and lease keeper, the scheduler, the web app.
SPARE_CONNECTIONS = 4


def make_engine(url: str, *, threads: int = 8) -> Engine:
    """An engine whose connections are ready for the queue and the intake writer.

    SQLite runs in WAL mode with synchronous=FULL, so a commit is on disk before we answer
    GitHub or Slack, and readers never block the single writer. On PostgreSQL the pool keeps a
    connection for each of `threads` (a worker's job slots) and a few more: a connection
    beyond the pool's size is closed when returned, and a worker whose slots outnumbered it
    opened and closed one (a server process forked and ended) every few jobs, which cost
    PostgreSQL's machine as much CPU as the jobs themselves.
    """
    if is_sqlite(url):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            # Let SQLAlchemy, not pysqlite, decide when transactions begin.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            # Keep the hot B-tree pages in memory and read the rest through mmap: the intake's
            # inserts then cost no read() calls as the store grows.
            cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection):  # pragma: no cover - trivial
            # A transaction that may write takes the write lock up front: no deadlock-prone
            # read-to-write upgrades. Reads alone (`reading`) begin deferred: in WAL mode they
            # read their snapshot beside the writer instead of queueing for its lock.
            reads_only = connection.get_execution_options().get(READS_ONLY, False)
            connection.exec_driver_sql("BEGIN" if reads_only else "BEGIN IMMEDIATE")

        return engine
    engine = create_engine(url, pool_size=threads + SPARE_CONNECTIONS, max_overflow=10)
    _ping_after_idle(engine, PING_AFTER_IDLE_SECONDS)
    return engine


def _ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """Test a pooled connection before use only when it has sat idle for `idle_seconds`.

    A busy worker's connections were in use a moment ago, and a ping before each transaction
    (`pool_pre_ping`) was a round trip per transaction; a connection left idle through a server
    restart is still found dead here and replaced, instead of failing the job that takes it.
    (One in use as the server goes down fails its transaction, and the pool drops the rest.)
    """

    @event.listens_for(engine.pool, "checkin")
    def _returned(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _taken(dbapi_connection, record, _proxy) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError(f"a pooled connection is dead: {error}") from error


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session committed on success and rolled back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def reading(engine: Engine, *, snapshot: bool = False) -> Iterator[Connection]:
    """A connection for reads alone: on PostgreSQL each statement runs on its own (autocommit).

    In a transaction a read cost three round trips (BEGIN, the read, ROLLBACK), and psycopg
    forgets every statement it has prepared on a connection at each ROLLBACK, so no hot read
    stayed prepared. Under READ COMMITTED each statement of a transaction took its own
    snapshot anyway. `snapshot`: every read sees the store as the first one did (a report that
    adds up several tables), a REPEATABLE READ transaction on PostgreSQL. On SQLite a read is
    always in a transaction, and a transaction is a snapshot; it begins deferred, so it never
    waits for the writer.
    """
    with engine.connect() as connection:
        if engine.dialect.name != "sqlite":
            level = "REPEATABLE READ" if snapshot else "AUTOCOMMIT"
            connection = connection.execution_options(isolation_level=level)
        else:
            connection = connection.execution_options(**{READS_ONLY: True})
        yield connection


@contextmanager
def reading_session(engine: Engine, *, snapshot: bool = False) -> Iterator[Session]:
    """A session over `reading`, for ORM reads."""
    with reading(engine, snapshot=snapshot) as connection, Session(bind=connection) as session:
        yield session


# Where a write goes: an engine (the write commits on its own) or a connection inside a
# caller's transaction (a group commit, `group_commit`).
Store = Engine | Connection


@contextmanager
def transaction(store: Store) -> Iterator[Connection]:
    """A transaction of its own on an engine; on a connection, the caller's transaction."""
    if isinstance(store, Connection):
        yield store
        return
    with store.begin() as connection:
        yield connection


# The names the rest of repocrew uses for the store's types: only bot/store imports SQLAlchemy.
StoreError = SQLAlchemyError  # anything the store raised
DatabaseError = DBAPIError  # the database itself failed (unreachable, restarted, refused)
__all__ = [
    "DatabaseError",
    "Engine",
    "Store",
    "StoreError",
    "is_sqlite",
    "make_engine",
    "ping",
    "reading",
    "reading_session",
    "session_scope",
    "transaction",
]


def ping(engine: Engine) -> None:
    """Raise unless the store answers a trivial query."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
