"""Model calls in the store: the transcript, the cost ledger and the replay cache of runs.

Rows are keyed by (run, step, seq); `bot.llm.ledger` decides what is asked and answered, this
module only reads and writes the rows.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update

from bot.store.engine import reading
from bot.store.models import ModelCall, utcnow

_call = ModelCall.__table__  # type: ignore[attr-defined]


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def _call_at(run_id: int | None, step: str):
    return (_call.c.run_id == run_id, _call.c.step == step)


def stored_call(engine: Engine, *, run_id: int | None, step: str, seq: int) -> Any | None:
    """The row of call `seq` of a step (request_key, response, tool_results, request)."""
    with reading(engine) as connection:
        return connection.execute(
            select(
                _call.c.request_key, _call.c.response, _call.c.tool_results, _call.c.request
            ).where(*_call_at(run_id, step), _call.c.seq == seq)
        ).first()


def forget_calls(engine: Engine, *, run_id: int | None, step: str, from_seq: int) -> None:
    with engine.begin() as connection:
        connection.execute(delete(_call).where(*_call_at(run_id, step), _call.c.seq >= from_seq))


def record_call(engine: Engine, **values: Any) -> None:
    """One model call's row (see `ModelCall` for the columns); `day` and time are added."""
    with engine.begin() as connection:
        connection.execute(insert(_call).values(day=today(), created_at=utcnow(), **values))


def record_tool_results(
    engine: Engine, *, run_id: int | None, step: str, seq: int, tool_results: str
) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(_call)
            .where(*_call_at(run_id, step), _call.c.seq == seq)
            .values(tool_results=tool_results)
        )


def run_spend(engine: Engine, run_id: int) -> tuple[float, int]:
    """(cost in USD, all tokens) a run has used so far."""
    tokens = (
        _call.c.input_tokens
        + _call.c.output_tokens
        + _call.c.cache_creation_input_tokens
        + _call.c.cache_read_input_tokens
    )
    with reading(engine) as connection:
        cost, used = connection.execute(
            select(
                func.coalesce(func.sum(_call.c.cost_usd), 0.0), func.coalesce(func.sum(tokens), 0)
            ).where(_call.c.run_id == run_id)
        ).one()
    return float(cost), int(used)


def day_spend(engine: Engine, day: str | None = None) -> float:
    with reading(engine) as connection:
        return float(
            connection.execute(
                select(func.coalesce(func.sum(_call.c.cost_usd), 0.0)).where(
                    _call.c.day == (day or today())
                )
            ).scalar_one()
        )


def transcript(engine: Engine, run_id: int, *, role: str | None = None) -> list[dict[str, Any]]:
    """What each agent of a run saw (request) and said (reply), in order; redacted as stored."""
    query = select(_call).where(_call.c.run_id == run_id)
    if role is not None:
        query = query.where(_call.c.role == role)
    with reading(engine) as connection:
        rows = connection.execute(query.order_by(_call.c.id)).mappings().all()
    return [
        {
            "step": row["step"],
            "role": row["role"],
            "seq": row["seq"],
            "saw": json.loads(row["request"]),
            "said": json.loads(row["response"])["content"],
            "tool_results": json.loads(row["tool_results"]),
            "cost_usd": row["cost_usd"],
        }
        for row in rows
    ]


def copy_calls(engine: Engine, *, source: int, target: int) -> None:
    """Run `source`'s calls again as `target`'s, at no cost (a replay pays for nothing)."""
    columns = [c for c in _call.columns if c.name not in ("id", "run_id")]
    with engine.begin() as connection:
        rows = connection.execute(
            select(*columns).where(_call.c.run_id == source).order_by(_call.c.id)
        ).all()
        if rows:
            copies = [{**row._asdict(), "run_id": target, "cost_usd": 0.0} for row in rows]
            connection.execute(insert(_call), copies)
