"""POST /slack/events, /slack/commands, /slack/interactions through slack-bolt.

The endpoint checks the signature and the 5-minute timestamp window once, with slack_sdk's
verifier (bolt's own check is off), then bolt answers url_verification and our one terminal
middleware stores the request (and its job) and acknowledges it. The real work runs in the
worker, so Slack gets its answer well within its 3 seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from fastapi import APIRouter, Request, Response
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import parse_body
from slack_bolt.request.payload_utils import is_event, is_slash_command
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

from bot.settings import Settings
from bot.store.intake_writer import IncomingDelivery, IntakeWriter, Receipt, StoreUnavailable
from bot.triggers.catalog import SLACK_REQUEST_JOB, slack_acts_on
from webhooks.intake import BodyTooLarge, json_response, read_body
from webhooks.metrics import note_intake, observed_intake

log = logging.getLogger(__name__)

router = APIRouter()

COMMAND_ACK = "Got it: your request is queued for the crew."


def describe(body: dict) -> tuple[str, str, str]:
    """(kind, detail, event id) of a Slack request.

    Only the Events API retries (same `event_id`, with X-Slack-Retry-Num); commands and
    interactions are never resent, so an identical body twice can only be a replay.
    """
    if is_event(body):
        event = body.get("event") or {}
        return "event_callback", str(event.get("type", "")), str(body.get("event_id", ""))
    if is_slash_command(body):
        return "command", str(body.get("command", "")), ""
    return str(body.get("type", "unknown")), "", ""


def ack_body(kind: str) -> dict | str:
    if kind == "command":
        return {"response_type": "ephemeral", "text": COMMAND_ACK}
    if kind in ("block_suggestion", "dialog_suggestion"):
        return {"options": []}
    return ""


class StoreAndAck(AsyncMiddleware):
    """The last middleware: store the verified request with its job, then acknowledge it.

    A middleware object rather than a listener: bolt's keyword injection chokes on some real
    payloads (a workflow_step_edit without `workflow_step`), and every kind must be stored.
    """

    def __init__(self, intake: IntakeWriter) -> None:
        self.intake = intake

    async def async_process(self, *, req: AsyncBoltRequest, resp: BoltResponse, next):
        kind, detail, event_id = describe(req.body or {})
        delivery_id = event_id or "sha256:" + hashlib.sha256(req.raw_body.encode()).hexdigest()
        delivery = IncomingDelivery(
            source="slack",
            delivery_id=delivery_id[:128],
            event=kind[:64],
            action=detail[:64],
            payload=req.raw_body,
            job_kind=SLACK_REQUEST_JOB if slack_acts_on(kind, detail) else None,
        )
        try:
            receipt = await self.intake.record(delivery)
        except StoreUnavailable as error:
            return BoltResponse(status=503, body={"error": f"store unavailable: {error}"})
        note_intake(event=delivery.event, outcome=receipt.value, delivery_id=delivery.delivery_id)
        if receipt is Receipt.DUPLICATE:
            log.info("slack %s %s already received (retry)", kind, delivery_id)
        return BoltResponse(status=200, body=ack_body(kind))


class SlackSignature(SignatureVerifier):
    """slack_sdk's v0 check (HMAC, five-minute window, constant time), answering every input.

    The SDK raises where it should say no: on a timestamp that is not a number, on a signature
    that is not ASCII, and on a body that is not UTF-8, which it decodes before hashing.
    """

    def is_valid(self, body: str | bytes, timestamp: str | None, signature: str | None) -> bool:
        try:
            return super().is_valid(body, timestamp, signature)
        except (ValueError, TypeError):  # int() of the timestamp; compare_digest of non-ASCII
            return False

    def generate_signature(self, *, timestamp: str, body: str | bytes) -> str | None:
        try:
            return super().generate_signature(timestamp=timestamp, body=body)
        except UnicodeDecodeError:
            # Slack signs bytes and only sends UTF-8; a signed body that is not must still be
            # told from an unsigned one (400 malformed, not 401), so hash the bytes as they came.
            base = b"v0:" + timestamp.encode() + b":" + body
            return "v0=" + hmac.new(self.signing_secret.encode(), base, hashlib.sha256).hexdigest()


def build_bolt_app(settings: Settings, intake: IntakeWriter) -> AsyncApp:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None

    async def authorize(enterprise_id, team_id, **_kwargs) -> AuthorizeResult:
        # No auth.test call on the intake path: the worker talks to Slack, not the edge.
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=token)

    app = AsyncApp(
        # The endpoint has verified the request; bolt holds no secret and checks nothing again.
        signing_secret="",
        request_verification_enabled=False,
        authorize=authorize,
        process_before_response=True,
        raise_error_for_unhandled_request=False,
    )

    app.use(StoreAndAck(intake))
    return app


def request_handler(settings: Settings, intake: IntakeWriter) -> AsyncSlackRequestHandler:
    """What the endpoint hands a verified request to: bolt, with our store-and-ack middleware."""
    return AsyncSlackRequestHandler(build_bolt_app(settings, intake))


def _parse(body: bytes, content_type: str) -> dict:
    """The request as bolt will read it; ValueError when it is not a Slack payload."""
    # As bolt reads it: the media type without its parameters (`; charset=...`).
    parsed = parse_body(body.decode("utf-8"), content_type.split(";")[0] or None)
    if not isinstance(parsed, dict) or not parsed:
        raise ValueError("empty or not an object")
    return parsed


@router.post("/slack/events")
@router.post("/slack/commands")
@router.post("/slack/interactions")
@observed_intake("slack")
async def slack_endpoint(request: Request) -> Response:
    state = request.app.state
    if state.slack_handler is None:
        return json_response(
            503, {"error": "REPOCREW_SLACK_SIGNING_SECRET is not set; refusing every request"}
        )
    try:
        # Read (and bound) the body first; bolt reads it again from Starlette's cache.
        body = await read_body(request, state.settings.max_webhook_bytes)
    except BodyTooLarge as error:
        return json_response(413, {"error": str(error)})
    # The one signature check (bolt's is off). Bolt fails with a 500 on a malformed body, so
    # parse it here too: unsigned gets 401, signed but malformed gets 400 with the reason.
    if not state.slack_verifier.is_valid(
        body,
        request.headers.get("x-slack-request-timestamp"),
        request.headers.get("x-slack-signature"),
    ):
        return json_response(401, {"error": "invalid X-Slack-Signature or stale timestamp"})
    try:
        _parse(body, request.headers.get("content-type", ""))
    except (ValueError, UnicodeDecodeError) as error:
        return json_response(400, {"error": f"malformed Slack payload: {error}"})
    return await state.slack_handler.handle(request)
