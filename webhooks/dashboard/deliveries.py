"""The deliveries audit log: every GitHub and Slack request received, newest first, with a
preview of its payload (credential-named fields masked, the rest redacted)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl

from bot.store.dashboard import DeliveryRow, recent_deliveries
from bot.store.engine import Engine
from webhooks.dashboard.text import Redact, mask_text, masked, pretty, shown

PAGE = 50
READ_CHARS = 20_000  # of a payload (they reach 25 MB); more than is shown, so redaction sees
SHOWN_CHARS = 4_000  # every secret whole before the preview is clipped
SOURCES = ("github", "slack")


@dataclass(frozen=True)
class DeliveriesPage:
    deliveries: list[DeliveryRow]
    older: int | None
    source: str | None


def deliveries_page(
    engine: Engine, *, redact: Redact, before: int | None = None, source: str | None = None
) -> DeliveriesPage:
    rows = recent_deliveries(
        engine, before=before, source=source, limit=PAGE + 1, payload_chars=READ_CHARS
    )
    # The store's rows, as shown: ids and payloads redacted, the payload cut to a preview.
    views = [
        replace(
            row,
            delivery_id=shown(row.delivery_id, redact, 128),
            payload=_preview(row.payload, redact),
        )
        for row in rows[:PAGE]
    ]
    older = rows[PAGE - 1].id if len(rows) > PAGE else None
    return DeliveriesPage(views, older, source)


def _preview(payload: str, redact: Redact) -> str:
    """GitHub sends JSON; Slack a form (commands) or a form holding JSON (interactions)."""
    data = _decoded(payload)
    if data is None:  # cut short at READ_CHARS, or neither
        return shown(mask_text(payload), redact, SHOWN_CHARS)
    return pretty(masked(data), redact, SHOWN_CHARS)


def _decoded(payload: str) -> Any:
    try:
        return json.loads(payload)
    except ValueError:
        pass
    try:
        fields = parse_qsl(payload, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return None
    form: dict[str, Any] = dict(fields)
    if isinstance(form.get("payload"), str):
        try:
            form["payload"] = json.loads(form["payload"])
        except ValueError:
            pass
    return form
