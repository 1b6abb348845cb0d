"""Outgoing webhooks: signed deliveries sent in order by one background thread, and recorded."""

from __future__ import annotations

import hmac
import json
import queue
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

USER_AGENT = "GitHub-Hookshot/8c2f3b7"
# The sender thread ends after this long without work (the next delivery starts a new one),
# so an emulator a test forgot about leaves no thread behind.
IDLE_SECONDS = 2.0


@dataclass
class Delivery:
    """One POST to the webhook target; `status` is None until it is answered (or if it failed)."""

    guid: str  # X-GitHub-Delivery; a redelivery keeps the original's
    event: str
    action: str | None
    payload: dict[str, Any]
    body: bytes
    hook_id: int
    target_type: str  # X-GitHub-Hook-Installation-Target-Type: integration or repository
    target_id: int
    redelivery: bool = False
    status: int | None = None
    error: str | None = None


def signature(secret: str, body: bytes, digest: str = "sha256") -> str:
    """`sha256=` (or `sha1=`) + hex HMAC of the body, as X-Hub-Signature(-256) carry it."""
    return f"{digest}=" + hmac.new(secret.encode(), body, digest).hexdigest()


def headers(delivery: Delivery, secret: str | None) -> dict[str, str]:
    sent = {
        "Accept": "*/*",
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-GitHub-Delivery": delivery.guid,
        "X-GitHub-Event": delivery.event,
        "X-GitHub-Hook-ID": str(delivery.hook_id),
        "X-GitHub-Hook-Installation-Target-ID": str(delivery.target_id),
        "X-GitHub-Hook-Installation-Target-Type": delivery.target_type,
    }
    if secret:  # GitHub signs only when the hook has a secret
        sent["X-Hub-Signature"] = signature(secret, delivery.body, "sha1")
        sent["X-Hub-Signature-256"] = signature(secret, delivery.body)
    return sent


class Hookshot:
    """The webhook of the emulator's app: off until `configure(url, secret)` names a target.

    `app_id` picks whose installation the payloads name (None: any app installed on the repo).
    Deliveries are queued by the API calls that cause them and sent by a background thread in
    the order they were queued; `deliveries` records each one with the status it got.
    """

    def __init__(
        self,
        url: str | None = None,
        secret: str | None = None,
        *,
        app_id: int | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.timeout = timeout
        self._lock = threading.Lock()
        # each delivery goes where the hook pointed when it was queued
        self._queue: queue.SimpleQueue[tuple[Delivery, str, str | None]] = queue.SimpleQueue()
        self._pending = 0
        self._idle = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._deliveries: list[Delivery] = []
        self.url, self.secret, self.app_id, self.hook_id = None, None, None, 0
        self.configure(url, secret, app_id=app_id)

    def configure(
        self, url: str | None, secret: str | None = None, *, app_id: int | None = None
    ) -> None:
        """Send future deliveries to `url`, signed with `secret`; `url=None` turns them off."""
        with self._lock:
            self.url, self.secret, self.app_id = url, secret, app_id
            self.hook_id = secrets.randbelow(10**9) + 10**8 if url else 0

    @property
    def enabled(self) -> bool:
        return self.url is not None

    @property
    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries)

    def clear(self) -> None:
        with self._lock:
            self._deliveries.clear()

    def send(
        self, event: str, payload: dict[str, Any], *, target_type: str, target_id: int
    ) -> Delivery | None:
        """Queue a delivery of `payload` (None when no target is configured)."""
        delivery = Delivery(
            guid=str(uuid.uuid4()),
            event=event,
            action=payload.get("action"),
            payload=payload,
            body=json.dumps(payload, separators=(",", ":")).encode(),
            hook_id=self.hook_id,
            target_type=target_type,
            target_id=target_id,
        )
        return delivery if self._enqueue(delivery) else None

    def redeliver(self, delivery: Delivery) -> Delivery:
        """Queue `delivery` again, same body and X-GitHub-Delivery, as GitHub's Redeliver does
        (to the current target)."""
        again = Delivery(
            guid=delivery.guid,
            event=delivery.event,
            action=delivery.action,
            payload=delivery.payload,
            body=delivery.body,
            hook_id=delivery.hook_id,
            target_type=delivery.target_type,
            target_id=delivery.target_id,
            redelivery=True,
        )
        if not self._enqueue(again):
            raise RuntimeError("no webhook target to redeliver to; call configure(url, secret)")
        return again

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every queued delivery was sent; False if `timeout` seconds passed first."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def _enqueue(self, delivery: Delivery) -> bool:
        with self._lock:
            if self.url is None:
                return False
            self._deliveries.append(delivery)
            self._pending += 1
            self._queue.put((delivery, self.url, self.secret))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="github-hookshot", daemon=True
                )
                self._thread.start()
        return True

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout) as client:
            while True:
                try:
                    delivery, url, secret = self._queue.get(timeout=IDLE_SECONDS)
                except queue.Empty:
                    with self._lock:
                        if self._queue.empty():
                            self._thread = None
                            return
                    continue
                self._post(client, delivery, url, secret)
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _post(self, client: httpx.Client, delivery: Delivery, url: str, secret: str | None) -> None:
        try:
            response = client.post(url, content=delivery.body, headers=headers(delivery, secret))
        except httpx.HTTPError as error:
            delivery.error = f"{type(error).__name__}: {error}"
        else:
            delivery.status = response.status_code
