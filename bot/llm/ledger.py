"""Every model call of a run, kept: the transcript, the cost ledger and the replay cache.

A step re-run after a crash asks the same questions in the same order; the ledger answers
those it has already paid for from the store (same position, same request hash), so a resumed
run costs nothing twice and sees the same answers. `repocrew replay` uses the same cache with
no model at all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from bot.llm.client import ModelReply, ModelUsage
from bot.store import model_calls as calls
from bot.store.engine import Engine


def request_key(request: dict[str, Any]) -> str:
    encoded = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


class Ledger:
    """The calls of one step of one run (`run_id` None: calls outside a run, e.g. standups)."""

    def __init__(
        self,
        engine: Engine,
        *,
        run_id: int | None,
        step: str,
        role: str,
        redact: Callable[[Any], Any] = lambda value: value,
        cost: Callable[[str, ModelUsage], float] = lambda _model, _usage: 0.0,
    ) -> None:
        self.engine = engine
        self.run_id = run_id
        self.step = step
        self.role = role
        self.redact = redact
        self.cost = cost

    def cached(self, seq: int, key: str) -> tuple[ModelReply, list[dict[str, Any]] | None] | None:
        """The stored reply (and tool results) for call `seq` if it was asked exactly so."""
        row = calls.stored_call(self.engine, run_id=self.run_id, step=self.step, seq=seq)
        if row is None or row.request_key != key:
            return None
        reply = json.loads(row.response)
        results = json.loads(row.tool_results)
        return _reply_from_json(reply), results or None

    def recorded_request(self, seq: int) -> dict[str, Any] | None:
        """The request recorded as call `seq` (redacted), whatever its hash."""
        row = calls.stored_call(self.engine, run_id=self.run_id, step=self.step, seq=seq)
        return json.loads(row.request) if row is not None else None

    def forget_from(self, seq: int) -> None:
        """Drop calls from `seq` on: the conversation took another turn than last time."""
        calls.forget_calls(self.engine, run_id=self.run_id, step=self.step, from_seq=seq)

    def record(self, seq: int, key: str, request: dict[str, Any], reply: ModelReply) -> float:
        usage = reply.usage
        cost = self.cost(reply.model, usage)
        calls.record_call(
            self.engine,
            run_id=self.run_id,
            step=self.step,
            role=self.role,
            seq=seq,
            request_key=key,
            model=reply.model,
            request=json.dumps(self.redact(request), default=str),
            response=json.dumps(self.redact(_reply_to_json(reply)), default=str),
            tool_results="[]",
            stop_reason=reply.stop_reason or "",
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_creation_input_tokens=usage.cache_creation_input_tokens,
            cache_read_input_tokens=usage.cache_read_input_tokens,
            cost_usd=cost,
        )
        return cost

    def record_tool_results(self, seq: int, results: list[dict[str, Any]]) -> None:
        calls.record_tool_results(
            self.engine,
            run_id=self.run_id,
            step=self.step,
            seq=seq,
            tool_results=json.dumps(self.redact(results), default=str),
        )


def _reply_to_json(reply: ModelReply) -> dict[str, Any]:
    return {
        "id": reply.id,
        "model": reply.model,
        "content": reply.content,
        "stop_reason": reply.stop_reason,
        "usage": asdict(reply.usage),
        "request_id": reply.request_id,
    }


def _reply_from_json(data: dict[str, Any]) -> ModelReply:
    return ModelReply(
        id=data["id"],
        model=data["model"],
        content=data["content"],
        stop_reason=data["stop_reason"],
        usage=ModelUsage(**data["usage"]),
        request_id=data.get("request_id"),
    )
