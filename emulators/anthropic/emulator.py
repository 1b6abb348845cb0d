"""The emulator's state and decisions, without I/O: a request in, a `Reply` out, all recorded."""

from __future__ import annotations

import json
import random
import string
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulators.anthropic import sse
from emulators.anthropic.faults import (
    ERROR_STATUS,
    SPEND_LIMITS,
    Fault,
    Outage,
    StreamBreak,
    StreamStall,
    error_body,
)
from emulators.anthropic.message import assistant_message
from emulators.anthropic.script import Script, Turn, last_user_text, load_script
from emulators.anthropic.usage import DEFAULT_MIN_CACHEABLE_TOKENS, PromptCache, prompt_segments
from emulators.anthropic.validation import InvalidRequest, validate_messages_request

DEFAULT_REPLY = "Hello from the repocrew Anthropic emulator (no script loaded)."
ID_ALPHABET = string.ascii_letters + string.digits


@dataclass
class Reply:
    """What to answer: a JSON `body` or SSE `events`, after waiting `delay` seconds."""

    status: int
    headers: dict[str, str]
    body: dict[str, Any] | None = None
    events: list[sse.Event] | None = None
    delay: float = 0.0
    stall: StreamStall | None = None  # the stream hangs, then is cut, after `stall.after` events


@dataclass
class RecordedRequest:
    """One request the emulator received, and what it answered."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    request_id: str
    received_at: float
    status: int = 0
    response: Any = None
    events: list[str] = field(default_factory=list)

    @property
    def retry_count(self) -> int:
        return int(self.headers.get("x-stainless-retry-count", "0"))


class AnthropicEmulator:
    """A local Anthropic Messages API that answers from a script and records every request.

    `script`: a `Script`, a list of turns (`Turn`s or plain data), or a .json/.toml path; when
    None, every request gets one short fixed text. `api_keys`: the accepted keys (None: any
    non-empty key). Faults (`rate_limit`, `overload`, `server_error`, `spend_limit`,
    `slow_down`, `break_stream`) are queued and hit the next requests in order.
    """

    def __init__(
        self,
        script: Script | Iterable[Turn | Mapping[str, Any]] | str | Path | None = None,
        *,
        api_keys: Collection[str] | None = None,
        min_cacheable_tokens: int = DEFAULT_MIN_CACHEABLE_TOKENS,
        ping: bool = True,
        seed: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if script is None:
            script = Script(fallback=Turn.text(DEFAULT_REPLY))
        elif isinstance(script, str | Path):
            script = load_script(script)
        elif not isinstance(script, Script):
            script = Script(script)
        self.script = script
        self.api_keys = None if api_keys is None else frozenset(api_keys)
        self.ping = ping
        self.cache = PromptCache(min_tokens=min_cacheable_tokens, clock=clock)
        self._clock = clock
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._log: list[RecordedRequest] = []
        self._faults: deque[Fault] = deque()
        self._breaks: deque[StreamBreak] = deque()
        self._stalls: deque[StreamStall] = deque()
        self._outages: list[Outage] = []

    # -- what tests look at -------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far (a copy), oldest first."""
        with self._lock:
            return list(self._log)

    def message_bodies(self) -> list[Any]:
        return [r.body for r in self.requests if r.path == "/v1/messages"]

    # -- fault injection ----------------------------------------------------------------

    def fail(self, error_type: str, *, times: int = 1, **options: Any) -> None:
        """The next `times` message requests answer `error_type` (see `Fault` for options)."""
        with self._lock:
            self._faults.extend(Fault(error_type=error_type, **options) for _ in range(times))

    def rate_limit(
        self, *, times: int = 1, retry_after: float | None = 1.0, **options: Any
    ) -> None:
        self.fail("rate_limit_error", times=times, retry_after=retry_after, **options)

    def overload(self, *, times: int = 1, **options: Any) -> None:
        self.fail("overloaded_error", times=times, **options)

    def server_error(self, *, times: int = 1, **options: Any) -> None:
        self.fail("api_error", times=times, **options)

    def spend_limit(self, kind: str = "credit_balance", *, times: int = 1, **options: Any) -> None:
        """The next `times` message requests answer an out-of-credit reply (see `SPEND_LIMITS`)."""
        error_type, message, error_code = SPEND_LIMITS[kind]
        options = {"message": message, "error_code": error_code, **options}
        self.fail(error_type, times=times, **options)

    def slow_down(self, seconds: float, *, times: int = 1) -> None:
        """The next `times` message requests are answered normally after `seconds`."""
        with self._lock:
            self._faults.extend(Fault(delay=seconds) for _ in range(times))

    def break_stream(self, *, times: int = 1, **options: Any) -> None:
        """The next `times` streamed answers end with an `error` event (the turn is kept)."""
        with self._lock:
            self._breaks.extend(StreamBreak(**options) for _ in range(times))

    def fail_for(
        self, seconds: float, error_type: str = "overloaded_error", **options: Any
    ) -> None:
        """Every message request in the next `seconds` answers `error_type`: an outage that
        outlasts a client's retries, where `fail(times=...)` is a blip (see `Fault` for options,
        e.g. `retry_after`)."""
        with self._lock:
            until = self._clock() + seconds
            self._outages.append(Outage(until, Fault(error_type=error_type, **options)))

    def stall_stream(self, *, times: int = 1, **options: Any) -> None:
        """The next `times` streamed answers hang mid-way, then lose their connection (see
        `StreamStall`); the turn is kept for the request sent again."""
        with self._lock:
            self._stalls.extend(StreamStall(**options) for _ in range(times))

    # -- the request path ---------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        return prefix + "01" + "".join(self._random.choices(ID_ALPHABET, k=22))

    def handle(self, method: str, path: str, headers: Mapping[str, str], raw: bytes) -> Reply:
        """Answer one HTTP request; thread-safe, as the server runs in its own thread."""
        with self._lock:
            request_id = self.new_id("req_")
            try:
                body: Any = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
            record = RecordedRequest(
                method=method,
                path=path,
                headers={k.lower(): v for k, v in headers.items()},
                body=body,
                request_id=request_id,
                received_at=self._clock(),
            )
            self._log.append(record)
            reply = self._answer(record)
            reply.headers["request-id"] = request_id
            record.status = reply.status
            if reply.events is not None:
                record.events = [name for name, _ in reply.events]
            return reply

    def _answer(self, record: RecordedRequest) -> Reply:
        routes = {
            ("POST", "/v1/messages"): self._messages,
            ("POST", "/v1/messages/count_tokens"): self._count_tokens,
        }
        route = routes.get((record.method, record.path))
        if route is None:
            return self._error(record, "not_found_error", f"Not found: {record.path}")
        refusal = self._check_headers(record)
        return refusal or route(record)

    def _check_headers(self, record: RecordedRequest) -> Reply | None:
        headers = record.headers
        key = headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ")
        if not key:
            return self._error(record, "authentication_error", "x-api-key header is required")
        if self.api_keys is not None and key not in self.api_keys:
            return self._error(record, "authentication_error", "invalid x-api-key")
        if "anthropic-version" not in headers:
            return self._error(
                record, "invalid_request_error", "anthropic-version: header is required"
            )
        return None

    def _error(self, record: RecordedRequest, error_type: str, message: str) -> Reply:
        body = error_body(error_type, message, record.request_id)
        record.response = body
        return Reply(ERROR_STATUS[error_type], {"x-should-retry": "false"}, body=body)

    def _count_tokens(self, record: RecordedRequest) -> Reply:
        body = dict(record.body) if isinstance(record.body, Mapping) else record.body
        if isinstance(body, dict):
            body.setdefault("max_tokens", 1)
        try:
            validate_messages_request(body)
        except InvalidRequest as problem:
            return self._error(record, "invalid_request_error", str(problem))
        tokens = sum(segment.tokens for segment in prompt_segments(body))
        record.response = {"input_tokens": tokens}
        return Reply(200, {}, body=record.response)

    def _messages(self, record: RecordedRequest) -> Reply:
        now = self._clock()
        self._outages = [outage for outage in self._outages if outage.until > now]
        if self._outages:
            fault = self._outages[0].fault
        else:
            fault = self._faults.popleft() if self._faults else Fault()
        if fault.error_type is not None:
            record.response = fault.body(record.request_id)
            reply = Reply(fault.status, fault.response_headers(), body=record.response)
        else:
            reply = self._scripted(record)
        reply.delay = fault.delay
        return reply

    def _scripted(self, record: RecordedRequest) -> Reply:
        body = record.body
        try:
            validate_messages_request(body)
        except InvalidRequest as problem:
            return self._error(record, "invalid_request_error", str(problem))
        streaming = bool(body.get("stream"))
        breaking = streaming and bool(self._breaks)
        stall = self._stalls.popleft() if streaming and self._stalls and not breaking else None
        turn = self._next_turn(body, keep=breaking or stall is not None)
        if turn is None:
            return self._error(record, "api_error", self._exhausted_message(body))
        message = assistant_message(body, turn, cache=self.cache, new_id=self.new_id)
        record.response = message
        if not streaming:
            return Reply(200, {}, body=message)
        events = sse.message_events(message, ping=self.ping)
        if breaking:
            stream_break = self._breaks.popleft()
            events = sse.broken_events(events, stream_break.error(), after=stream_break.after)
        if stall is not None:
            events = events[: stall.after]  # what the client gets before the line goes quiet
        return Reply(200, {"cache-control": "no-cache"}, events=events, stall=stall)

    def _next_turn(self, body: Mapping[str, Any], *, keep: bool) -> Turn | None:
        index = self.script.pick(body)
        if index is None:
            return self.script.fallback
        return self.script.turns[index] if keep else self.script.use(index)

    def _exhausted_message(self, body: Mapping[str, Any]) -> str:
        last_user = last_user_text(body)
        if len(last_user) > 200:
            last_user = last_user[:200] + "…"
        return (
            "Anthropic emulator: the script is exhausted: no unused turn matches this request "
            f"({len(self.script.turns)} turns, {self.script.remaining} unused). "
            f"Last user message: {last_user!r}"
        )
