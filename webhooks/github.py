"""POST /github/webhook: verify, store the delivery (and its job) durably, answer.

Nothing is parsed before the signature checks out, and nothing is answered 2xx before the
delivery is committed. A redelivery (same X-GitHub-Delivery) is answered 200 and stored once.
"""

from __future__ import annotations

from urllib.parse import parse_qs

import orjson
from fastapi import APIRouter, Request, Response

from bot.store.intake_writer import IncomingDelivery, Receipt, StoreUnavailable
from bot.triggers.catalog import GITHUB_EVENT_JOB, github_acts_on
from webhooks.intake import BodyTooLarge, json_response, read_body
from webhooks.metrics import note_intake, observed_intake
from webhooks.signatures import github_signature_valid

router = APIRouter()

PATH = "/github/webhook"
MAX_ID_LENGTH = 128
MAX_NAME_LENGTH = 64


def parse_payload(body: bytes, content_type: str) -> dict:
    """The JSON payload, sent as JSON or (if the hook is so configured) as form field `payload`."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        if "payload" not in fields:
            raise ValueError("form-encoded delivery without a payload field")
        body = fields["payload"][0].encode()
    payload = orjson.loads(body)
    if not isinstance(payload, dict):
        raise ValueError("payload is JSON but not an object")
    return payload


@observed_intake("github")
async def github_webhook(request: Request) -> Response:
    settings = request.app.state.settings
    if settings.github_webhook_secret is None:
        return json_response(
            503, {"error": "REPOCREW_GITHUB_WEBHOOK_SECRET is not set; refusing every delivery"}
        )
    try:
        body = await read_body(request, settings.max_webhook_bytes)
    except BodyTooLarge as error:
        return json_response(413, {"error": str(error)})
    secret = request.app.state.github_secret
    if not github_signature_valid(secret, body, request.headers.get("x-hub-signature-256")):
        return json_response(401, {"error": "missing or invalid X-Hub-Signature-256"})

    event = request.headers.get("x-github-event", "")
    delivery_id = request.headers.get("x-github-delivery", "")
    if not event or len(event) > MAX_NAME_LENGTH:
        return json_response(400, {"error": "missing or overlong X-GitHub-Event header"})
    if not delivery_id or len(delivery_id) > MAX_ID_LENGTH:
        return json_response(400, {"error": "missing or overlong X-GitHub-Delivery header"})
    try:
        payload = parse_payload(body, request.headers.get("content-type", "application/json"))
    except (ValueError, UnicodeDecodeError) as error:
        return json_response(400, {"error": f"payload is not valid JSON: {error}"})

    action = payload.get("action")
    action = action if isinstance(action, str) and len(action) <= MAX_NAME_LENGTH else ""
    installation = payload.get("installation")
    installation_id = installation.get("id") if isinstance(installation, dict) else None
    if type(installation_id) is not int or not 0 < installation_id < 2**63:
        installation_id = None
    acted_on = github_acts_on(event, action)
    delivery = IncomingDelivery(
        source="github",
        delivery_id=delivery_id,
        event=event,
        action=action,
        installation_id=installation_id,
        payload=body.decode("utf-8"),
        job_kind=GITHUB_EVENT_JOB if acted_on else None,
    )
    try:
        receipt = await request.app.state.intake.record(delivery)
    except StoreUnavailable as error:
        # GitHub does not retry on its own, but the delivery can be redelivered from the App page.
        return json_response(503, {"error": f"store unavailable: {error}"})
    note_intake(
        event=event, outcome=receipt.value, delivery_id=delivery_id, installation_id=installation_id
    )
    if event == "ping":
        return json_response(200, {"status": "pong", "delivery": delivery_id})
    if receipt is Receipt.DUPLICATE:
        return json_response(200, {"status": "duplicate", "delivery": delivery_id})
    return json_response(202, {"status": receipt.value, "delivery": delivery_id})


# Served ahead of the middleware stack by webhooks.app.RepocrewApp; the route is kept so
# that other methods get 405 and the path shows in the app's routes.
router.add_route(PATH, github_webhook, methods=["POST"])
