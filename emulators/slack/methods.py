"""The Web API methods, one function each, reached through the `METHODS` table."""

from __future__ import annotations

from collections.abc import Callable

from . import shapes
from .arguments import (
    Call,
    arg,
    flag,
    json_arg,
    member_channel,
    message_content,
    metadata_arg,
    paginate,
    parse_blocks,
    ts_arg,
    writable_channel,
)
from .state import Message, SlackError, View, Workspace


def auth_test(ws: Workspace, call: Call) -> dict:
    team = ws.teams[call.token.team_id]
    user = ws.users[call.token.user_id]
    data = {
        "url": f"https://{team.domain}.slack.com/",
        "team": team.name,
        "user": user.name,
        "team_id": team.id,
        "user_id": user.id,
        "is_enterprise_install": False,
    }
    if call.token.bot_id:
        data |= {"bot_id": call.token.bot_id, "app_id": user.app_id, "app_name": user.real_name}
    if team.enterprise_id:
        data["enterprise_id"] = team.enterprise_id
    return data


def chat_post_message(ws: Workspace, call: Call) -> dict:
    channel = writable_channel(ws, call)
    content = message_content(call)
    persona = {k: call.args.get(k) or None for k in ("username", "icon_emoji", "icon_url")}
    if any(persona.values()) and "chat:write.customize" not in call.token.scopes:
        raise SlackError("missing_scope", needed="chat:write.customize")
    if call.token.user_id not in channel.members and (
        channel.is_private or "chat:write.public" not in call.token.scopes
    ):
        raise SlackError("not_in_channel")
    bot = ws.users[call.token.user_id]
    metadata = metadata_arg(call)
    message = ws.post(
        Message(
            channel=channel.id,
            ts=ws.next_ts(),
            user=bot.id,
            bot_id=bot.bot_id,
            app_id=bot.app_id,
            team=channel.team_id,
            thread_ts=call.args.get("thread_ts") or None,
            broadcast=flag(call, "reply_broadcast") and bool(call.args.get("thread_ts")),
            metadata=metadata or None,
            **persona,
            **content,
        )
    )
    message.broadcast = message.broadcast and message.thread_ts is not None
    return {"channel": channel.id, "ts": message.ts, "message": shapes.message_json(message, ws)}


def chat_update(ws: Workspace, call: Call) -> dict:
    channel = writable_channel(ws, call)
    message = ws.message(channel.id, arg(call, "ts", "message_not_found"))
    if message.user != call.token.user_id:
        raise SlackError("cant_update_message")
    content = message_content(call)
    metadata = metadata_arg(call)
    if metadata is not None:  # absent: the message keeps its metadata; `[]` removes it
        message.metadata = metadata or None
    message.text = content["text"]
    if content["blocks"] is not None or call.args.get("blocks") is not None:
        message.blocks = content["blocks"]
    if content["attachments"] is not None:
        message.attachments = content["attachments"]
    message.edited = (call.token.bot_id or call.token.user_id, ws.next_ts())
    data = shapes.message_json(message, ws)
    data.pop("ts")  # Slack's chat.update answer carries ts at the top level only
    return {"channel": channel.id, "ts": message.ts, "text": message.text, "message": data}


def chat_post_ephemeral(ws: Workspace, call: Call) -> dict:
    channel = writable_channel(ws, call)
    user_id = arg(call, "user", "user_not_in_channel")
    if user_id not in channel.members:
        raise SlackError("user_not_in_channel")
    content = message_content(call)
    ephemeral = ws.post_ephemeral(channel.id, user_id, content["text"], call.token.user_id)
    return {"message_ts": ephemeral.message_ts}


def conversations_list(ws: Workspace, call: Call) -> dict:
    types = set(str(call.args.get("types") or "public_channel").split(","))
    team = ws.teams[call.token.team_id]
    channels = [
        c
        for c in ws.channels.values()
        if c.team_id == team.id
        and ("private_channel" if c.is_private else "public_channel") in types
        and not (c.is_private and call.token.user_id not in c.members)
        and not (c.is_archived and flag(call, "exclude_archived"))
    ]
    page, cursor = paginate(channels, call, 100)
    member = call.token.user_id
    listed = [shapes.channel_json(c, team, member_id=member, num_members=True) for c in page]
    return {"channels": listed, "response_metadata": {"next_cursor": cursor}}


def conversations_history(ws: Workspace, call: Call) -> dict:
    channel = member_channel(ws, call)
    latest = ts_arg(call, "latest", "invalid_ts_latest")
    oldest = ts_arg(call, "oldest", "invalid_ts_oldest")
    inclusive = flag(call, "inclusive")

    def within(message: Message) -> bool:
        ts = float(message.ts)
        after = oldest is None or ts > oldest or (inclusive and ts == oldest)
        return after and (latest is None or ts < latest or (inclusive and ts == latest))

    newest_first = [m for m in reversed(ws.top_level(channel.id)) if within(m)]
    page, cursor = paginate(newest_first, call, 100)
    # Slack sends message metadata in listings only when asked (or subscribed to its type).
    metadata = flag(call, "include_all_metadata")
    data = {
        "messages": [shapes.message_json(m, ws, metadata=metadata) for m in page],
        "has_more": bool(cursor),
        "pin_count": 0,
        "channel_actions_ts": 0,
        "channel_actions_count": 0,
        "response_metadata": {"next_cursor": cursor},
    }
    data |= {k: str(call.args[k]) for k in ("oldest", "latest") if call.args.get(k)}
    return data


def conversations_replies(ws: Workspace, call: Call) -> dict:
    channel = member_channel(ws, call)
    ts = arg(call, "ts", "thread_not_found")
    try:
        thread = ws.thread(channel.id, ts)
    except SlackError as error:
        raise SlackError("thread_not_found") from error
    page, cursor = paginate(thread, call, 1000)
    metadata = flag(call, "include_all_metadata")
    return {
        "messages": [shapes.message_json(m, ws, metadata=metadata) for m in page],
        "has_more": bool(cursor),
        "response_metadata": {"next_cursor": cursor},
    }


def conversations_join(ws: Workspace, call: Call) -> dict:
    channel = ws.channel(call.token.team_id, arg(call, "channel", "channel_not_found"))
    if channel.is_private:
        raise SlackError("method_not_supported_for_channel_type")
    if channel.is_archived:
        raise SlackError("is_archived")
    already = call.token.user_id in channel.members
    channel.members.add(call.token.user_id)
    team = ws.teams[channel.team_id]
    data: dict = {"channel": shapes.channel_json(channel, team, member_id=call.token.user_id)}
    if already:
        data |= {"warning": "already_in_channel"}
        data["response_metadata"] = {"warnings": ["already_in_channel"]}
    return data


def conversations_info(ws: Workspace, call: Call) -> dict:
    channel = ws.channel(call.token.team_id, arg(call, "channel", "channel_not_found"))
    if channel.is_private and call.token.user_id not in channel.members:
        raise SlackError("channel_not_found")
    team = ws.teams[channel.team_id]
    return {
        "channel": shapes.channel_json(
            channel,
            team,
            member_id=call.token.user_id,
            locale=flag(call, "include_locale"),
            num_members=flag(call, "include_num_members"),
        )
    }


def users_info(ws: Workspace, call: Call) -> dict:
    user = ws.user(call.token.team_id, arg(call, "user", "user_not_found"))
    return {"user": shapes.user_json(user, ws.teams[user.team_id])}


def reactions_add(ws: Workspace, call: Call) -> dict:
    if not call.args.get("channel") or not call.args.get("timestamp"):
        raise SlackError("no_item_specified")
    name = arg(call, "name", "invalid_name").strip(":")
    channel = member_channel(ws, call)
    ws.react(channel.id, str(call.args["timestamp"]), name, call.token.user_id)
    return {}


def views_open(ws: Workspace, call: Call) -> dict:
    trigger_id = call.args.get("trigger_id")
    view = json_arg(call, "view", "invalid_arguments")
    for name, value in (("trigger_id", trigger_id), ("view", view)):
        if not value:
            messages = [f"[ERROR] missing required field: {name}"]
            raise SlackError("invalid_arguments", response_metadata={"messages": messages})
    if not isinstance(view, dict) or view.get("type") not in ("modal", "home"):
        raise SlackError("invalid_arguments")
    ws.use_trigger(str(trigger_id))
    blocks = parse_blocks(Call(call.token, view)) or []
    for key in ("title", "submit", "close"):
        if isinstance(view.get(key), dict):
            view[key] = {"emoji": True, **view[key]}  # Slack fills in plain_text's emoji flag
    bot = ws.users[call.token.user_id]
    stored = View(
        id=ws.next_id("V"),
        team_id=call.token.team_id,
        user_id=bot.id,
        app_id=bot.app_id or "",
        bot_id=bot.bot_id or "",
        body={**view, "blocks": blocks},
    )
    ws.views[stored.id] = stored
    return {"view": shapes.view_json(stored)}


Method = Callable[[Workspace, Call], dict]

METHODS: dict[str, Method] = {
    "auth.test": auth_test,
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.postEphemeral": chat_post_ephemeral,
    "conversations.list": conversations_list,
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
    "conversations.join": conversations_join,
    "conversations.info": conversations_info,
    "users.info": users_info,
    "reactions.add": reactions_add,
    "views.open": views_open,
}

# Any one of these scopes lets a token call the method (bot-token scopes, as Slack names them).
SCOPES: dict[str, frozenset[str]] = {
    "chat.postMessage": frozenset({"chat:write"}),
    "chat.update": frozenset({"chat:write"}),
    "chat.postEphemeral": frozenset({"chat:write"}),
    "conversations.list": frozenset({"channels:read", "groups:read"}),
    "conversations.info": frozenset({"channels:read", "groups:read"}),
    "conversations.history": frozenset({"channels:history", "groups:history"}),
    "conversations.replies": frozenset({"channels:history", "groups:history"}),
    "conversations.join": frozenset({"channels:join"}),
    "users.info": frozenset({"users:read"}),
    "reactions.add": frozenset({"reactions:write"}),
}
