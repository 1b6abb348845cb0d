"""The JSON objects Slack sends for channels, users, messages and views (pure builders)."""

from __future__ import annotations

from .state import Channel, Message, Team, User, View, Workspace

AVATAR = "https://a.slack-edge.com/80588/img/avatars/ava_0001-{size}.png"
EMOJI_IMAGE = (
    "https://a.slack-edge.com/production-standard-emoji-assets/14.0/apple-medium/{name}.png"
)


def _text_object(value: str, creator: str, last_set: int) -> dict:
    return {
        "value": value,
        "creator": creator if value else "",
        "last_set": last_set if value else 0,
    }


def channel_json(
    channel: Channel, team: Team, *, member_id: str, locale: bool = False, num_members: bool = False
) -> dict:
    """A conversation object as conversations.info/list/join send it, seen by `member_id`."""
    data = {
        "id": channel.id,
        "name": channel.name,
        "is_channel": not channel.is_private,
        "is_group": channel.is_private,
        "is_im": False,
        "is_mpim": False,
        "is_private": channel.is_private,
        "created": channel.created,
        "is_archived": channel.is_archived,
        "is_general": channel.is_general,
        "unlinked": 0,
        "name_normalized": channel.name,
        "is_shared": False,
        "is_org_shared": False,
        "is_ext_shared": False,
        "is_pending_ext_shared": False,
        "pending_shared": [],
        "pending_connected_team_ids": [],
        "shared_team_ids": [team.id],
        "internal_team_ids": [],
        "context_team_id": team.id,
        "conversation_host_id": team.id,
        "creator": channel.creator,
        "is_member": member_id in channel.members,
        "is_moved": 0,
        "is_global_shared": False,
        "is_org_default": False,
        "is_org_mandatory": False,
        "is_read_only": False,
        "is_thread_only": False,
        "is_non_threadable": False,
        "updated": channel.created * 1000,
        "topic": _text_object(channel.topic, channel.creator, channel.created),
        "purpose": _text_object(channel.purpose, channel.creator, channel.created),
        "previous_names": [],
        "priority": 0,
        "properties": {"is_dormant": False, "tabs": [], "tabz": [], "use_case": "project"},
    }
    if member_id in channel.members:
        data["last_read"] = "0000000000.000000"
    if locale:
        data["locale"] = "en-US"
    if num_members:
        data["num_members"] = len(channel.members)
    return data


def _avatars(sizes: tuple[int, ...]) -> dict:
    return {f"image_{size}": AVATAR.format(size=size) for size in sizes}


def user_json(user: User, team: Team) -> dict:
    """A user object as users.info sends it (bots get their bot_id and app in the profile)."""
    data = {
        "id": user.id,
        "team_id": team.id,
        "name": user.name,
        "deleted": user.deleted,
        "color": "9f69e7",
        "real_name": user.real_name,
        "tz": user.tz,
        "tz_label": "Central European Time",
        "tz_offset": 3600,
        "profile": _profile_json(user, team),
        "is_admin": False,
        "is_owner": False,
        "is_primary_owner": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": user.is_bot,
        "is_app_user": False,
        "is_workflow_bot": False,
        "is_email_confirmed": not user.is_bot,
        "who_can_share_contact_card": "EVERYONE",
        "updated": 1700000000,
        "locale": "en-US",
    }
    if not user.is_bot:
        data["has_2fa"] = False
    if team.enterprise_id:
        data |= _enterprise_fields(user, team)
    return data


def _profile_json(user: User, team: Team) -> dict:
    """A user's profile: names, an empty status, default avatars; a bot's names its app."""
    first, _, last = user.real_name.partition(" ")
    profile = {
        "title": "",
        "phone": "",
        "skype": "",
        "real_name": user.real_name,
        "real_name_normalized": user.real_name,
        "display_name": user.name,
        "display_name_normalized": user.name,
        "first_name": first,
        "last_name": last,
        "pronouns": "",
        "start_date": "",
        "status_text": "",
        "status_text_canonical": "",
        "status_emoji": "",
        "status_emoji_display_info": [],
        "status_emoji_url": "",
        "status_expiration": 0,
        "huddle_state": "default_unset",
        "huddle_state_expiration_ts": 0,
        "avatar_hash": f"g{user.id.lower()}",
        "is_custom_image": False,
        "team": team.id,
        "image_original": AVATAR.format(size="original"),
        **_avatars((24, 32, 48, 72, 192, 512, 1024)),
    }
    if user.is_bot:
        profile |= {"bot_id": user.bot_id, "api_app_id": user.app_id, "always_active": True}
    elif user.email:
        profile["email"] = user.email
    return profile


def _enterprise_fields(user: User, team: Team) -> dict:
    """What a user of an Enterprise Grid team carries besides: its enterprise and teams."""
    enterprise_name = team.enterprise_name or ""
    return {
        "enterprise_id": team.enterprise_id,
        "enterprise_name": enterprise_name,
        "teams": [team.id],
        "enterprise_user": {
            "id": user.id,
            "enterprise_id": team.enterprise_id,
            "enterprise_name": enterprise_name,
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "teams": [team.id],
        },
    }


def bot_profile_json(bot: User) -> dict:
    return {
        "id": bot.bot_id,
        "deleted": False,
        "name": bot.real_name,
        "updated": 1700000000,
        "app_id": bot.app_id,
        "user_id": bot.id,
        "icons": _avatars((36, 48, 72)),
        "team_id": bot.team_id,
    }


def persona_icons(message: Message) -> dict | None:
    if message.icon_emoji:
        name = message.icon_emoji.strip(":")
        return {"emoji": f":{name}:", "image_64": EMOJI_IMAGE.format(name=name)}
    if message.icon_url:
        return {f"image_{size}": message.icon_url for size in (36, 48, 64, 72)}
    return None


def _thread_fields(message: Message, workspace: Workspace) -> dict:
    if message.is_reply:
        parent = workspace.messages[message.channel][message.thread_ts or ""]
        return {"thread_ts": message.thread_ts, "parent_user_id": parent.user}
    if not message.replies:
        return {}
    replies = [workspace.messages[message.channel][ts] for ts in message.replies]
    reply_users = list(dict.fromkeys(reply.user for reply in replies))
    return {
        "thread_ts": message.ts,
        "reply_count": len(replies),
        "reply_users_count": len(reply_users),
        "latest_reply": replies[-1].ts,
        "reply_users": reply_users,
        "is_locked": False,
        "subscribed": True,
    }


def message_json(
    message: Message, workspace: Workspace, *, root: bool = True, metadata: bool = True
) -> dict:
    """A message as chat.postMessage/update, conversations.history and .replies send it
    (`metadata`: with its metadata, which the listings send only on `include_all_metadata`)."""
    data: dict = {"type": "message", "text": message.text, "user": message.user, "ts": message.ts}
    if message.team:
        data["team"] = message.team
    if message.client_msg_id:
        data["client_msg_id"] = message.client_msg_id
    if message.bot_id:
        bot = workspace.users[message.user]
        data |= {"bot_id": message.bot_id, "app_id": message.app_id}
        data["bot_profile"] = bot_profile_json(bot)
    icons = persona_icons(message)
    if message.username or icons:
        data["subtype"] = "bot_message"
        data["username"] = message.username or workspace.users[message.user].real_name
        if icons:
            data["icons"] = icons
    if message.broadcast:
        data["subtype"] = "thread_broadcast"
    data |= _thread_fields(message, workspace)
    if message.broadcast and root:
        parent = workspace.messages[message.channel][message.thread_ts or ""]
        data["root"] = message_json(parent, workspace, root=False)
    if message.blocks is not None:
        data["blocks"] = message.blocks
    if message.attachments is not None:
        data["attachments"] = message.attachments
    if message.metadata is not None and metadata:
        data["metadata"] = message.metadata
    if message.edited:
        data["edited"] = {"user": message.edited[0], "ts": message.edited[1]}
    if message.reactions:
        data["reactions"] = [
            {"name": name, "users": users, "count": len(users)}
            for name, users in message.reactions.items()
        ]
    return data


def view_json(view: View) -> dict:
    """A view as views.open answers it: the caller's view plus the fields Slack fills in."""
    body = view.body
    return {
        "id": view.id,
        "team_id": view.team_id,
        "type": body.get("type", "modal"),
        "title": body.get("title"),
        "submit": body.get("submit"),
        "close": body.get("close"),
        "blocks": body.get("blocks", []),
        "private_metadata": body.get("private_metadata", ""),
        "callback_id": body.get("callback_id", ""),
        "external_id": body.get("external_id", ""),
        "state": {"values": {}},
        "hash": f"{view.id.lower()}.hash",
        "clear_on_close": bool(body.get("clear_on_close", False)),
        "notify_on_close": bool(body.get("notify_on_close", False)),
        "submit_disabled": bool(body.get("submit_disabled", False)),
        "root_view_id": view.id,
        "previous_view_id": None,
        "app_id": view.app_id,
        "app_installed_team_id": view.team_id,
        "bot_id": view.bot_id,
    }
