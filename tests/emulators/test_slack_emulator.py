"""The Slack emulator through the real, unpatched slack_sdk over loopback HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from urllib.parse import parse_qs

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from emulators.server import running
from emulators.slack import DEFAULT_TOKEN, Policy, SlackEmulator, create_app
from emulators.slack.methods import METHODS
from tests.conftest import CORPUS

SLACK = CORPUS / "slack"
CREW, GENERAL, HUMAN, BOT = "C0002", "C0001", "U0001", "U0002"


@pytest.fixture
def emulator() -> SlackEmulator:
    return SlackEmulator()


@pytest.fixture
def url(emulator: SlackEmulator) -> Iterator[str]:
    with running(create_app(emulator)) as base:
        yield base


@pytest.fixture
def client(url: str) -> WebClient:
    return WebClient(token=DEFAULT_TOKEN, base_url=url + "/api/")


def error_of(call) -> str:
    with pytest.raises(SlackApiError) as raised:
        call()
    return raised.value.response["error"]


# -- conversation round trip -----------------------------------------------------------


def test_persona_thread_update_and_readback(client: WebClient, emulator: SlackEmulator):
    plan = client.chat_postMessage(
        channel=CREW, text="Plan: 1. read 2. fix", username="Planner", icon_emoji=":clipboard:"
    )
    assert plan["message"]["username"] == "Planner"
    assert plan["message"]["icons"]["emoji"] == ":clipboard:"
    reply = client.chat_postMessage(
        channel=CREW,
        thread_ts=plan["ts"],
        text="On it",
        username="Coder",
        icon_url="https://example.com/coder.png",
    )
    assert reply["message"]["thread_ts"] == plan["ts"]
    assert reply["message"]["parent_user_id"] == BOT
    updated = client.chat_update(channel=CREW, ts=plan["ts"], text="Plan: 1. read 2. fix 3. test")
    assert updated["text"].endswith("3. test")
    client.reactions_add(channel=CREW, timestamp=plan["ts"], name="eyes")

    history = client.conversations_history(channel=CREW)["messages"]
    assert [m["ts"] for m in history] == [plan["ts"]]  # replies stay in their thread
    parent = history[0]
    assert parent["text"] == "Plan: 1. read 2. fix 3. test"
    assert parent["edited"]["user"] == "B0001"
    assert (parent["reply_count"], parent["latest_reply"]) == (1, reply["ts"])
    assert parent["reactions"] == [{"name": "eyes", "users": [BOT], "count": 1}]
    thread = client.conversations_replies(channel=CREW, ts=plan["ts"])["messages"]
    assert [(m["ts"], m.get("username")) for m in thread] == [
        (plan["ts"], "Planner"),
        (reply["ts"], "Coder"),
    ]

    crew = emulator.channel_transcript("#crew")
    assert [(p.shown_as, p.icon, p.edited) for p in crew.posts] == [
        ("Planner", ":clipboard:", True)
    ]
    assert [(r.persona, r.author, r.text) for r in crew.posts[0].replies] == [
        ("Coder", BOT, "On it")
    ]
    assert emulator.render_transcript() == (
        "#crew\n"
        "  Planner :clipboard: (via repocrew) (edited): Plan: 1. read 2. fix 3. test\n"
        "    :eyes: 1\n"
        "    ↳ Coder https://example.com/coder.png (via repocrew): On it\n"
    )


def test_blocks_and_channel_names(client: WebClient, emulator: SlackEmulator):
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Review* ready"}}]
    # Through api_call: chat_postMessage warns about a missing `text`, which is the point here.
    posted = client.api_call("chat.postMessage", json={"channel": "#crew", "blocks": blocks})
    assert posted["channel"] == CREW
    assert posted["message"]["blocks"][0]["text"]["text"] == "*Review* ready"
    assert posted["message"]["blocks"][0]["block_id"]  # Slack fills in block ids
    assert emulator.channel_transcript(CREW).posts[0].text == "*Review* ready"


def test_join_then_post_and_list(client: WebClient):
    assert error_of(lambda: client.chat_postMessage(channel=GENERAL, text="hi")) == "not_in_channel"
    joined = client.conversations_join(channel=GENERAL)
    assert joined["channel"]["is_member"] is True and "warning" not in joined
    assert client.conversations_join(channel=GENERAL)["warning"] == "already_in_channel"
    client.chat_postMessage(channel=GENERAL, text="hi")
    listed = client.conversations_list(limit=1)
    assert len(listed["channels"]) == 1 and listed["response_metadata"]["next_cursor"]
    rest = client.conversations_list(cursor=listed["response_metadata"]["next_cursor"])
    names = [c["name"] for c in listed["channels"] + rest["channels"]]
    assert names == ["general", "crew"]


def test_metadata_is_kept_and_listed_only_when_asked_for(client: WebClient):
    """Slack returns a message's metadata in history and replies only on include_all_metadata;
    chat.update keeps it unless given new metadata, and `[]` removes it."""
    meta = {"event_type": "repocrew_post", "event_payload": {"key": "run:1:open", "revision": 1}}
    parent = client.chat_postMessage(channel=CREW, text="Run 1", metadata=meta)
    assert parent["message"]["metadata"] == meta
    client.chat_postMessage(channel=CREW, text="plan", thread_ts=parent["ts"], metadata=meta)

    def listed(**flag: bool) -> list[dict | None]:
        history = client.conversations_history(channel=CREW, **flag)["messages"]
        thread = client.conversations_replies(channel=CREW, ts=parent["ts"], **flag)["messages"]
        return [m.get("metadata") for m in history + thread]

    assert listed() == [None, None, None]
    assert listed(include_all_metadata=True) == [meta, meta, meta]

    client.chat_update(channel=CREW, ts=parent["ts"], text="Run 1 (edited)")
    assert listed(include_all_metadata=True)[0] == meta
    newer = {"event_type": "repocrew_post", "event_payload": {"key": "run:1:open", "revision": 2}}
    assert client.chat_update(channel=CREW, ts=parent["ts"], text="v2", metadata=newer)
    assert listed(include_all_metadata=True)[0] == newer
    client.api_call("chat.update", json={"channel": CREW, "ts": parent["ts"], "text": "v3",
                                         "metadata": []})  # fmt: skip
    assert listed(include_all_metadata=True)[0] is None


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ("{not json", "invalid_metadata_format"),
        ('"a string"', "invalid_metadata_format"),
        ('{"event_type": "x"}', "invalid_metadata_schema"),
        ('{"event_type": "", "event_payload": {}}', "invalid_metadata_schema"),
        ('{"event_type": "x", "event_payload": []}', "invalid_metadata_schema"),
    ],
)
def test_malformed_metadata_is_refused(client: WebClient, metadata: str, error: str):
    post = {"channel": CREW, "text": "hi", "metadata": metadata}
    assert error_of(lambda: client.api_call("chat.postMessage", data=post)) == error


def test_every_answer_names_the_tokens_scopes(url: str, emulator: SlackEmulator):
    """Slack's x-oauth-scopes header: what `repocrew doctor` checks the token against."""
    emulator.add_token("xoxb-few", scopes={"chat:write", "channels:history"})
    answer = WebClient(token="xoxb-few", base_url=url + "/api/").auth_test()
    headers = {name.lower(): value for name, value in answer.headers.items()}
    assert headers["x-oauth-scopes"] == "channels:history,chat:write"


# -- errors and faults ------------------------------------------------------------------


def test_errors_are_slack_api_errors(url: str, client: WebClient, emulator: SlackEmulator):
    api = url + "/api/"
    emulator.add_token("xoxb-plain", scopes={"chat:write", "channels:history"})
    posted = client.chat_postMessage(channel=CREW, text="x")
    cases = {
        "invalid_auth": lambda: WebClient(token="xoxb-wrong", base_url=api).auth_test(),
        "not_authed": lambda: WebClient(base_url=api).auth_test(),
        "channel_not_found": lambda: client.chat_postMessage(channel="C9999", text="x"),
        "message_not_found": lambda: client.chat_update(channel=CREW, ts="1.000001", text="x"),
        "user_not_found": lambda: client.users_info(user="U9999"),
        "no_text": lambda: client.api_call("chat.postMessage", json={"channel": CREW}),
        "thread_not_found": lambda: client.conversations_replies(channel=CREW, ts="1.000001"),
        "already_reacted": lambda: [
            client.reactions_add(channel=CREW, timestamp=posted["ts"], name="tada")
            for _ in range(2)
        ],
        "unknown_method": lambda: client.api_call("chat.postTelegram"),
        "missing_scope": lambda: WebClient(token="xoxb-plain", base_url=api).chat_postMessage(
            channel=CREW, text="x", username="Planner"
        ),
    }
    assert {code: error_of(call) for code, call in cases.items()} == {c: c for c in cases}
    with pytest.raises(SlackApiError) as raised:
        WebClient(token="xoxb-plain", base_url=api).users_info(user=HUMAN)
    assert raised.value.response["needed"] == "users:read"
    assert "chat:write" in raised.value.response["provided"]


def test_fault_injection(url: str, client: WebClient, emulator: SlackEmulator):
    emulator.force_rate_limit("conversations.history", times=1, retry_after=7)
    raw = httpx.post(
        url + "/api/conversations.history",
        data={"channel": CREW},
        headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"},
    )
    assert (raw.status_code, raw.headers["Retry-After"]) == (429, "7")
    assert raw.json() == {"ok": False, "error": "ratelimited"}
    assert client.conversations_history(channel=CREW)["ok"]  # only the next call was refused

    emulator.remove_channel("#crew")
    assert error_of(lambda: client.conversations_info(channel=CREW)) == "channel_not_found"
    emulator.revoke_token()
    assert error_of(client.auth_test) == "token_revoked"


def test_rate_limited_posts_all_arrive_in_order(url: str):
    emulator = SlackEmulator(rate_limits={"chat.postMessage": Policy(10, burst=10, per="channel")})
    with running(create_app(emulator)) as base:
        client = WebClient(token=DEFAULT_TOKEN, base_url=base + "/api/")
        client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=20))
        started = time.monotonic()
        for n in range(30):
            client.chat_postMessage(channel=CREW, text=f"message {n}")
        elapsed = time.monotonic() - started
    posts = emulator.channel_transcript(CREW).posts
    assert [p.text for p in posts] == [f"message {n}" for n in range(30)]
    refused = emulator.rate_limited
    assert refused and all(r.retry_after >= 1 and r.key == CREW for r in refused)
    statuses = [c.status for c in emulator.calls if c.method == "chat.postMessage"]
    assert statuses.count(429) == len(refused) and statuses.count(200) == 30
    assert elapsed < 10


# -- fidelity against Slack's samples and OpenAPI description ---------------------------


def json_type(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {dict: "object", list: "array", str: "string", type(None): "null"}[type(value)]


def shape_gaps(sample, actuals: list, path: str, exempt: dict[str, str]) -> list[str]:
    """Where `actuals` (responses, or array items, taken together) lack a field of `sample`
    or carry it with another JSON type. A sample null matches anything; a sample object with a
    `type` (Block Kit elements) is compared with the actual objects of that type, if any."""
    if path in exempt or sample is None:
        return []
    if isinstance(sample, dict) and sample.get("type"):
        same = [a for a in actuals if isinstance(a, dict) and a.get("type") == sample["type"]]
        actuals = same or actuals
    wrong = {json_type(a) for a in actuals} - {json_type(sample)}
    if wrong:
        return [f"{path}: {sorted(wrong)} where the sample has {json_type(sample)}"]
    if isinstance(sample, dict):
        gaps = []
        for key, value in sample.items():
            where = f"{path}.{key}" if path else key
            present = [a[key] for a in actuals if key in a]
            if not present and where not in exempt:
                gaps.append(f"{where}: missing")
            elif present:
                gaps += shape_gaps(value, present, where, exempt)
        return gaps
    if isinstance(sample, list) and sample:
        items = [item for a in actuals for item in a]
        if not items:
            return [f"{path}: always empty"]
        return shape_gaps(sample[0], items, path + "[]", exempt)
    return []


ERROR_ONLY = {"error", "needed", "provided", "errors", "arg", "callstack", "deprecated_argument"}
FILE_MESSAGES = ("upload", "display_as_bot", "x_files", "files")
UNMODELLED_MESSAGE = {
    "room": "huddle messages: the emulator has no calls or huddles",
    "assistant_app_thread": "AI assistant threads are not emulated",
    **dict.fromkeys(FILE_MESSAGES, "file messages: the emulator has no file uploads"),
    "topic": "channel_topic system messages are not emulated",
    "purpose": "channel_purpose system messages are not emulated",
    "inviter": "channel_join system messages are not emulated",
    "last_read": "per-user read cursors are not emulated",
    "root.parent_user_id": "the root of a thread broadcast is a parent: it has no parent",
}
# Fields the samples (a union of many responses) hold that no response of this emulator
# carries, with the reason; everything else must be there with the sample's JSON type.
EXEMPT: dict[str, dict[str, str]] = {
    "auth.test": {
        "expires_in": "token rotation is not emulated",
        "warning": "no warnings apply to auth.test calls",
    },
    "chat.postMessage": {
        "response_metadata": "only sent with warnings about deprecated arguments",
        **{f"message.{k}": why for k, why in UNMODELLED_MESSAGE.items()},
    },
    "chat.update": {
        "response_metadata": "only sent with warnings about deprecated arguments",
        **{f"message.{k}": why for k, why in UNMODELLED_MESSAGE.items()},
    },
    "conversations.history": {f"messages[].{k}": w for k, w in UNMODELLED_MESSAGE.items()},
    "conversations.replies": {f"messages[].{k}": w for k, w in UNMODELLED_MESSAGE.items()},
    "conversations.list": {
        "warning": "no warnings apply to conversations.list calls",
        "channels[].user": "direct-message conversations are not emulated",
        "channels[].is_user_deleted": "direct-message conversations are not emulated",
        "channels[].pending_shared": "Slack Connect is not emulated (always [])",
        "channels[].pending_connected_team_ids": "Slack Connect is not emulated (always [])",
        "channels[].internal_team_ids": "Grid org-shared channels are not emulated (always [])",
        "channels[].previous_names": "channel renames are not emulated (always [])",
        **{
            f"channels[].properties.{k}": "channel canvases, tabs data and workflows"
            for k in ("posting_restricted_to", "threads_restricted_to", "canvas", "meeting_notes")
            + ("channel_workflows", "has_slack_connect_invite_created")
        },
        "channels[].properties.tabs": "channel tabs (bookmarks, canvases) are not emulated",
        "channels[].properties.tabz": "channel tabs (bookmarks, canvases) are not emulated",
    },
    "conversations.info": {
        "warning": "no warnings apply to conversations.info calls",
        "channel.properties.tabs": "channel tabs (bookmarks, canvases) are not emulated",
        "channel.properties.tabz": "channel tabs (bookmarks, canvases) are not emulated",
        "channel.properties.has_slack_connect_invite_created": "Slack Connect is not emulated",
        "channel.pending_shared": "Slack Connect is not emulated",
        "channel.pending_connected_team_ids": "Slack Connect is not emulated",
        "channel.internal_team_ids": "Enterprise Grid org-shared channels are not emulated",
        "channel.connected_team_ids": "Enterprise Grid org-shared channels are not emulated",
        "channel.connected_limited_team_ids": "Slack Connect is not emulated",
        "channel.previous_names": "channel renames are not emulated",
    },
    "conversations.join": {
        "channel.properties.canvas": "channel canvases are not emulated",
        "channel.properties.tabs": "channel tabs (bookmarks, canvases) are not emulated",
        "channel.properties.tabz": "channel tabs (bookmarks, canvases) are not emulated",
        "channel.properties.meeting_notes": "huddle notes are not emulated",
        "channel.pending_shared": "Slack Connect is not emulated",
        "channel.pending_connected_team_ids": "Slack Connect is not emulated",
        "channel.internal_team_ids": "Enterprise Grid org-shared channels are not emulated",
        "channel.previous_names": "channel renames are not emulated",
        "channel.is_starred": "stars are per user and not emulated",
    },
    "users.info": {
        "warning": "no warnings apply to users.info calls",
        "user.profile.guest_invited_by": "guest accounts are not emulated",
        "user.profile.status_emoji_display_info": "custom status emoji are not emulated",
        "user.is_stranger": "Slack Connect strangers are not emulated",
        "user.is_invited_user": "pending invitations are not emulated",
        "user.is_connector_bot": "Slack Connect connector bots are not emulated",
    },
    "reactions.add": {"warning": "no warnings apply to reactions.add calls"},
    "chat.postEphemeral": {"warning": "no warnings apply to chat.postEphemeral calls"},
    "views.open": {
        "warning": "no warnings apply to views.open calls",
        "response_metadata": "only sent with validation messages",
        "view.previous_view_id": "Slack sends null for a view opened at the root",
        **{
            f"view.{k}": "work-object (entity) views and message-bound views are not emulated"
            for k in ("entity_url", "external_ref", "app_unfurl_url")
            + ("message_ts", "thread_ts", "channel")
        },
    },
}


def sample(method: str) -> dict:
    return json.loads((SLACK / "samples" / "api" / f"{method}.json").read_text())


def fidelity_responses(client: WebClient, emulator: SlackEmulator) -> dict[str, list[dict]]:
    """Representative successful calls of every method, in an Enterprise Grid workspace."""
    emulator.workspace.teams["T0001"].enterprise_id = "E0001"
    emulator.workspace.teams["T0001"].enterprise_name = "Emulated Org"
    post = sample("chat.postMessage")["message"]
    parent = client.chat_postMessage(
        channel=CREW,
        text="Plan",
        username="Planner",
        icon_emoji=":clipboard:",
        blocks=post["blocks"],
        attachments=post["attachments"],
        metadata={"event_type": "run_started", "event_payload": {"run": 7}},
    )
    broadcast = client.chat_postMessage(
        channel=CREW, text="Done", thread_ts=parent["ts"], reply_broadcast=True
    )
    client.chat_postMessage(channel=CREW, text="Hi", icon_url="https://example.com/a.png")
    updated = client.chat_update(
        channel=CREW,
        ts=parent["ts"],
        text="Plan v2",
        blocks=sample("chat.update")["message"]["blocks"],
    )
    reacted = client.reactions_add(channel=CREW, timestamp=parent["ts"], name="eyes")
    emulator.post_as(HUMAN, "thanks <@U0002>", channel=CREW)
    client.conversations_join(channel=GENERAL)
    view = sample("views.open")["view"]
    opened = client.views_open(
        trigger_id=emulator.issue_trigger(),
        view={k: view[k] for k in ("type", "title", "submit", "close", "blocks", "callback_id")}
        | {"type": "modal", "private_metadata": "run=7", "external_id": "run-7"},
    )
    return {
        "auth.test": [client.auth_test().data],
        "chat.postMessage": [parent.data, broadcast.data],
        "chat.update": [updated.data],
        "chat.postEphemeral": [
            client.chat_postEphemeral(channel=CREW, user=HUMAN, text="only you").data
        ],
        "conversations.list": [client.conversations_list().data],
        "conversations.history": [
            client.conversations_history(
                channel=CREW, oldest="1", latest="9999999999", include_all_metadata=True
            ).data
        ],
        "conversations.replies": [
            client.conversations_replies(
                channel=CREW, ts=parent["ts"], include_all_metadata=True
            ).data
        ],
        "conversations.join": [client.conversations_join(channel=GENERAL).data],
        "conversations.info": [
            client.conversations_info(
                channel=CREW, include_locale=True, include_num_members=True
            ).data
        ],
        "users.info": [client.users_info(user=u).data for u in (HUMAN, BOT)],
        "reactions.add": [reacted.data],
        "views.open": [opened.data],
    }


def test_every_method_answers_with_the_sample_shape(
    corpus, client: WebClient, emulator: SlackEmulator
):
    responses = fidelity_responses(client, emulator)
    assert set(responses) == set(METHODS)
    gaps = {}
    for method, bodies in responses.items():
        exempt = EXEMPT.get(method, {}) | dict.fromkeys(ERROR_ONLY, "error responses only")
        found = shape_gaps(sample(method) | {"ok": True}, bodies, "", exempt)
        if found:
            gaps[method] = found
    assert gaps == {}, json.dumps(gaps, indent=1)


def test_the_shape_check_can_fail():
    exempt: dict[str, str] = {}
    assert shape_gaps({"a": {"b": ""}}, [{"a": {}}], "", exempt) == ["a.b: missing"]
    assert shape_gaps({"a": [{"b": 1}]}, [{"a": [{"b": "1"}]}], "", exempt) == [
        "a[].b: ['string'] where the sample has number"
    ]
    assert shape_gaps({"a": [1]}, [{"a": []}], "", exempt) == ["a: always empty"]
    assert shape_gaps({"a": None}, [{"a": 3}], "", exempt) == []


GENERIC_ERRORS = {"not_authed", "invalid_auth", "invalid_arguments"}


def openapi() -> dict:
    return json.loads((SLACK / "slack_web_openapi_v2.json").read_text())


def documented(method: str) -> tuple[list[str], set[str]]:
    """The required parameters and the error codes the OpenAPI description gives `method`."""
    operation = next(iter(openapi()["paths"]["/" + method].values()))
    required = [p["name"] for p in operation.get("parameters", []) if p.get("required")]
    schema = operation["responses"].get("default", {}).get("schema", {})
    errors = set(schema.get("properties", {}).get("error", {}).get("enum") or [])
    return required, errors


def valid_arguments(method: str, client: WebClient, emulator: SlackEmulator) -> dict:
    ts = client.chat_postMessage(channel=CREW, text="target")["ts"]
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Run"}, "blocks": []}
    return {
        "auth.test": {},
        "chat.postMessage": {"channel": CREW, "text": "hi"},
        "chat.update": {"channel": CREW, "ts": ts, "text": "edited"},
        "chat.postEphemeral": {"channel": CREW, "user": HUMAN, "text": "psst"},
        "conversations.list": {},
        "conversations.history": {"channel": CREW},
        "conversations.replies": {"channel": CREW, "ts": ts},
        "conversations.join": {"channel": GENERAL},
        "conversations.info": {"channel": CREW},
        "users.info": {"user": HUMAN},
        "reactions.add": {"channel": CREW, "timestamp": ts, "name": "eyes"},
        "views.open": {"trigger_id": emulator.issue_trigger(), "view": json.dumps(view)},
    }[method]


@pytest.mark.parametrize("method", sorted(METHODS))
def test_missing_required_arguments_give_documented_errors(
    corpus, method: str, url: str, client: WebClient, emulator: SlackEmulator
):
    required, errors = documented(method)
    arguments = valid_arguments(method, client, emulator)
    assert client.api_call(method, data=arguments)["ok"]  # the complete call works
    for name in required:
        caller = WebClient(base_url=url + "/api/") if name == "token" else client
        incomplete = {k: v for k, v in arguments.items() if k != name}
        code = error_of(lambda c=caller, a=incomplete: c.api_call(method, data=a))
        assert code in errors | GENERIC_ERRORS, f"{method} without {name}: {code}"


# -- requests from Slack to the app -----------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict]]]:
    """A stand-in for repocrew's /slack/* endpoints that checks Slack's signature."""
    verifier = SignatureVerifier("receiver-secret")
    arrived: list[dict] = []

    async def receive(request: Request) -> JSONResponse:
        body = await request.body()
        if not verifier.is_valid_request(body, dict(request.headers)):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        arrived.append({"path": request.url.path, "headers": request.headers, "body": body})
        return JSONResponse({"received": True})

    paths = ("/slack/commands", "/slack/events", "/slack/interactions")
    app = Starlette(routes=[Route(path, receive, methods=["POST"]) for path in paths])
    with running(app) as base:
        yield base, arrived


def test_requests_to_the_app_are_signed_and_well_formed(receiver):
    base, arrived = receiver
    emulator = SlackEmulator(app_url=base, signing_secret="receiver-secret")

    assert emulator.send_command("plan #12").status_code == 200
    ts, response = emulator.say("<@U0002> please look at #12")
    assert response.status_code == 200
    assert emulator.resend_event(retry_num=1, reason="http_timeout").status_code == 200
    assert emulator.click("approve", "run-7", message_ts=ts).status_code == 200
    assert SlackEmulator(app_url=base, signing_secret="wrong").send_command("x").status_code == 401

    command, event, retry, click = arrived
    fields = {k: v[0] for k, v in parse_qs(command["body"].decode()).items()}
    assert command["path"] == "/slack/commands"
    assert command["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert fields | {"trigger_id": "", "response_url": ""} == {
        "token": "emulator-verification-token",
        "team_id": "T0001",
        "team_domain": "repocrew-emulated",
        "channel_id": CREW,
        "channel_name": "crew",
        "user_id": HUMAN,
        "user_name": "ada",
        "command": "/crew",
        "text": "plan #12",
        "api_app_id": "A0001",
        "is_enterprise_install": "false",
        "response_url": "",
        "trigger_id": "",
    }

    envelope = json.loads(event["body"])
    assert event["path"] == "/slack/events"
    assert {k: envelope[k] for k in ("type", "team_id", "api_app_id")} == {
        "type": "event_callback",
        "team_id": "T0001",
        "api_app_id": "A0001",
    }
    assert envelope["event_id"].startswith("Ev") and isinstance(envelope["event_time"], int)
    assert envelope["event"] | {"client_msg_id": "", "event_ts": ""} == {
        "type": "app_mention",
        "user": HUMAN,
        "text": "<@U0002> please look at #12",
        "ts": ts,
        "channel": CREW,
        "team": "T0001",
        "client_msg_id": "",
        "event_ts": "",
    }
    assert "x-slack-retry-num" not in event["headers"]
    assert retry["body"] == event["body"]
    assert (retry["headers"]["x-slack-retry-num"], retry["headers"]["x-slack-retry-reason"]) == (
        "1",
        "http_timeout",
    )

    payload = json.loads(parse_qs(click["body"].decode())["payload"][0])
    assert click["path"] == "/slack/interactions"
    assert payload["type"] == "block_actions"
    assert payload["actions"][0] | {"action_ts": ""} == {
        "action_id": "approve",
        "block_id": "actions",
        "value": "run-7",
        "type": "button",
        "action_ts": "",
        "text": {"type": "plain_text", "text": "run-7", "emoji": True},
    }
    assert payload["container"]["message_ts"] == ts
    assert (payload["user"]["id"], payload["team"]["id"]) == (HUMAN, "T0001")
    assert emulator.channel_transcript(CREW).posts[0].author == HUMAN
