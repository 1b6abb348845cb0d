"""One agent turn: ask the model, run the tools it calls, repeat until it answers or a limit hits.

Small and explicit (after mini-swe-agent): before every model call the turn limit and the
budget are checked; the request is replayed from the ledger when the same call was already
made (a resumed step; offline, a call asked differently says what changed); every reply is
recorded before its tools run, so nothing paid for is lost. The stable prefix (tools, system
prompt, the repository's map, the shared task context) carries cache breakpoints, and so does
the newest message, so each turn reads the conversation so far from the cache.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.llm.client import ModelReply
from bot.llm.drift import PROMPTS_CHANGED, describe_drift
from bot.llm.ledger import Ledger, request_key
from bot.llm.tools import Toolbox

log = logging.getLogger(__name__)

EPHEMERAL = {"type": "ephemeral"}
MAX_CONTINUATIONS = 2
NUDGE = (
    "Your turn is not finished: give your answer by calling {tools}. Do not answer in plain text."
)


class ModelPort(Protocol):
    def create(
        self,
        *,
        model: str,
        max_tokens: int,
        system: list[dict[str, Any]],
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None = None,
    ) -> ModelReply: ...


class AgentStopped(Exception):
    """The turn ended without an answer; `reason` says why in words a human can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PromptsChanged(AgentStopped):
    """Replaying offline, a recorded call is asked differently: the reason says what changed."""


class ModelRefused(AgentStopped):
    """The model declined (stop_reason `refusal`): the run stops with its reason."""


class TurnLimitReached(AgentStopped):
    pass


class BudgetExhausted(AgentStopped):
    """The next call could take the run or the day over budget: stop before making it."""


@dataclass
class AgentResult:
    answer: dict[str, Any] | None
    text: str
    turns: int
    tool_calls: list[dict[str, Any]] = field(default_factory=list)


# Called before each model call with the request about to be sent; raises BudgetExhausted.
BudgetCheck = Callable[[dict[str, Any]], None]


def _no_budget(_request: dict[str, Any]) -> None:
    return None


@dataclass
class AgentTurn:
    """The inputs of one agent's turn; `run()` drives it to a final tool call."""

    model: ModelPort | None
    ledger: Ledger
    toolbox: Toolbox
    model_name: str
    system: str
    context: str
    prompt: str
    max_tokens: int
    max_turns: int
    budget: BudgetCheck = _no_budget
    # Applied to every tool result before the model sees it (secrets redacted, size capped).
    screen: Callable[[str], str] = lambda text: text
    server_tools: list[dict[str, Any]] = field(default_factory=list)
    # The run's repository map and instructions: a system block of its own, the same bytes in
    # every step, with its own cache breakpoint (the tools then give theirs up: at most four).
    repository: str = ""

    def run(self) -> AgentResult:
        messages: list[dict[str, Any]] = [
            {"role": "user", "content": [{"type": "text", "text": self.prompt}]}
        ]
        system = [{"type": "text", "text": self.system}]
        if self.repository:
            system.append({"type": "text", "text": self.repository, "cache_control": EPHEMERAL})
        system.append({"type": "text", "text": self.context, "cache_control": EPHEMERAL})
        tools = self.toolbox.definitions(cached=not self.repository) + self.server_tools
        finals = self.toolbox.final_names
        calls: list[dict[str, Any]] = []
        texts: list[str] = []
        continuations = nudges = 0
        for seq in range(self.max_turns):
            request = {
                "model": self.model_name,
                "max_tokens": self.max_tokens,
                "system": system,
                "messages": _with_moving_breakpoint(messages),
                "tools": tools,
            }
            reply, stored_results = self._ask(seq, request)
            messages.append({"role": "assistant", "content": reply.content})
            texts += [b["text"] for b in reply.content if b.get("type") == "text"]
            if reply.stop_reason == "refusal":
                raise ModelRefused(f"the model declined: {' '.join(texts)[-500:] or 'no reason'}")
            uses = [block for block in reply.content if block.get("type") == "tool_use"]
            if reply.stop_reason == "max_tokens":
                continuations += 1
                if uses or continuations > MAX_CONTINUATIONS:
                    raise AgentStopped(
                        f"the model's reply hit max_tokens ({self.max_tokens}) "
                        f"{'inside a tool call' if uses else 'repeatedly'}; raise max_tokens"
                    )
                messages.append(_user_text("Continue exactly where you stopped."))
                continue
            if reply.stop_reason == "pause_turn":  # a server tool paused a long turn
                continue
            if not uses:
                nudges += 1
                if not finals or nudges > 1:
                    if not finals:
                        return AgentResult(None, "\n".join(texts), seq + 1, calls)
                    raise AgentStopped(f"the model ended its turn without calling {finals[0]}")
                messages.append(_user_text(NUDGE.format(tools=" or ".join(finals))))
                continue
            results, answer = self._run_tools(uses, stored_results, calls)
            self.ledger.record_tool_results(seq, results)
            if answer is not None:
                return AgentResult(answer, "\n".join(texts), seq + 1, calls)
            messages.append({"role": "user", "content": results})
        raise TurnLimitReached(f"no answer after {self.max_turns} model turns (the turn limit)")

    def _ask(
        self, seq: int, request: dict[str, Any]
    ) -> tuple[ModelReply, list[dict[str, Any]] | None]:
        key = request_key(request)
        cached = self.ledger.cached(seq, key)
        if cached is not None:
            return cached
        if self.model is None:
            self._check_drift(seq, request)
            raise AgentStopped(
                f"no recorded reply for model call {seq} of {self.ledger.step} and no model to ask"
                " (replaying offline, or ANTHROPIC_API_KEY is not set)"
            )
        self.ledger.forget_from(seq)
        self.budget(request)
        reply = self.model.create(
            model=request["model"],
            max_tokens=request["max_tokens"],
            system=request["system"],
            messages=request["messages"],
            tools=request["tools"] or None,
        )
        self.ledger.record(seq, key, request, reply)
        return reply, None

    def _check_drift(self, seq: int, request: dict[str, Any]) -> None:
        """Offline, a recorded call asked differently means the prompts changed: say how."""
        recorded = self.ledger.recorded_request(seq)
        if recorded is None:
            return
        current = json.loads(json.dumps(self.ledger.redact(request), default=str))
        drift = describe_drift(recorded, current)
        if drift:
            raise PromptsChanged(
                f"{PROMPTS_CHANGED}: {drift} (model call {seq} of {self.ledger.step})"
            )

    def _run_tools(
        self,
        uses: list[dict[str, Any]],
        stored: list[dict[str, Any]] | None,
        calls: list[dict[str, Any]],
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """Run every tool call (side effects happen again on a replay); answer in order."""
        results: list[dict[str, Any]] = []
        answer = None
        for index, use in enumerate(uses):
            outcome = self.toolbox.call(use["name"], use.get("input"))
            calls.append(
                {"name": use["name"], "input": use.get("input"), "error": outcome.is_error}
            )
            if outcome.final_input is not None and answer is None:
                answer = outcome.final_input
            text = self.screen(outcome.text)
            result = {"type": "tool_result", "tool_use_id": use["id"], "content": text}
            if outcome.is_error:
                result["is_error"] = True
            # On a replay the model was shown the recorded result (test timings differ run to
            # run); show it the same again so the next request matches the ledger.
            if stored is not None and index < len(stored):
                result = stored[index]
            results.append(result)
        return results, answer


def _user_text(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"type": "text", "text": text}]}


def _with_moving_breakpoint(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A copy of the conversation with cache breakpoints on its last two user messages.

    The newest one writes this turn's prefix; the one before it is where the previous turn
    wrote, so this turn reads everything up to there from the cache. (With tools and system,
    that is the API's limit of four breakpoints.)
    """
    copied = json.loads(json.dumps(messages))
    users = [m for m in copied if m["role"] == "user" and isinstance(m["content"], list)]
    for message in users[-2:]:
        if message["content"]:
            message["content"][-1]["cache_control"] = {"type": "ephemeral"}
    return copied
