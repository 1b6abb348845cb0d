"""System flags: named switches an operator clears (e.g. new runs paused at a spend limit)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from bot.store.engine import reading_session
from bot.store.models import SystemFlag, utcnow


def set_flag(engine: Engine, *, name: str, value: str) -> bool:
    """Set a flag; True when it was not set before (so an alert goes out once)."""
    with Session(engine) as session:
        flag = session.get(SystemFlag, name)
        if flag is not None and flag.value:
            return False
        session.merge(SystemFlag(name=name, value=value, set_at=utcnow()))
        session.commit()
        return True


def get_flag(engine: Engine, name: str) -> str:
    with reading_session(engine) as session:
        flag = session.get(SystemFlag, name)
        return flag.value if flag is not None else ""
