"""Two events of one installation handled at once (a worker runs several jobs side by side, and
several workers run): neither change to its repositories is lost, on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text

from bot.store.engine import make_engine
from bot.store.installations import change_repositories, record_installation
from bot.store.migrate import upgrade
from bot.store.models import Installation

pytestmark = pytest.mark.postgres

ACCOUNT = {"id": 7, "account": {"login": "octo-org", "type": "Organization"}}


def test_a_change_made_meanwhile_is_kept(postgres_url):
    engine = make_engine(postgres_url)
    upgrade(engine)
    try:
        record_installation(engine, ACCOUNT, repositories=[])
        with engine.connect() as other:  # another job, half-way through its own change
            other.execute(text("SELECT id FROM installation WHERE id = 7 FOR UPDATE"))
            second = threading.Thread(
                target=change_repositories,
                args=(engine, ACCOUNT),
                kwargs={"added": ["octo-org/b"], "removed": []},
            )
            second.start()
            second.join(0.5)  # it waits for the first to commit (or, unlocked, reads the old)
            other.execute(text("UPDATE installation SET repositories = 'octo-org/a' WHERE id = 7"))
            other.commit()
        second.join(10)
        assert not second.is_alive()
        with engine.connect() as connection:
            stored = connection.execute(select(Installation.repositories)).scalar_one()
        assert stored.splitlines() == ["octo-org/a", "octo-org/b"]
    finally:
        engine.dispose()


def test_a_new_installation_added_meanwhile_is_updated_not_added_twice(postgres_url):
    engine = make_engine(postgres_url)
    upgrade(engine)
    failures: list[BaseException] = []

    def second_event() -> None:
        try:
            record_installation(engine, ACCOUNT, repositories=["octo-org/b"])
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)

    try:
        with engine.connect() as other:  # another job adding the same new installation
            other.execute(
                text(
                    "INSERT INTO installation (id, account_login, account_type, "
                    "repository_selection, repositories, suspended, deleted, created_at, "
                    "updated_at) VALUES (7, 'octo-org', 'Organization', 'selected', "
                    "'octo-org/a', false, false, now(), now())"
                )
            )
            second = threading.Thread(target=second_event)
            second.start()
            second.join(0.5)  # it waits for the first to commit (or, unlocked, inserts too)
            other.commit()
        second.join(10)
        assert not second.is_alive()
        assert failures == []
        with engine.connect() as connection:
            stored = connection.execute(select(Installation)).one()
        assert (stored.account_login, stored.repository_selection) == ("octo-org", "selected")
        assert stored.repositories.splitlines() == ["octo-org/b"]
    finally:
        engine.dispose()
