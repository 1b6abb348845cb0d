"""What was said where, and as whom: the workspace as a transcript, and its text rendering."""

from __future__ import annotations

from dataclasses import dataclass

from .state import Message, Workspace


@dataclass(frozen=True)
class Post:
    """One message as a reader sees it: who posted it (`author`) and as which persona."""

    ts: str
    author: str  # user id of the poster (the bot user for every persona)
    author_name: str
    persona: str | None  # `username` the message was posted under, if any
    icon: str | None  # `:emoji:` or image URL of the persona
    text: str
    edited: bool = False
    broadcast: bool = False
    reactions: tuple[tuple[str, int], ...] = ()
    replies: tuple[Post, ...] = ()

    @property
    def shown_as(self) -> str:
        return self.persona or self.author_name


@dataclass(frozen=True)
class ChannelTranscript:
    id: str
    name: str
    posts: tuple[Post, ...]


def _block_text(blocks: list[dict] | None) -> str:
    """The readable text of section/header/context blocks, for messages posted without `text`."""
    parts: list[str] = []
    for block in blocks or []:
        text = block.get("text")
        if isinstance(text, dict) and text.get("text"):
            parts.append(str(text["text"]))
        for element in block.get("elements", []) if block.get("type") == "context" else []:
            if isinstance(element, dict) and element.get("text"):
                parts.append(str(element["text"]))
    return "\n".join(parts)


def _post(message: Message, workspace: Workspace, replies: tuple[Post, ...] = ()) -> Post:
    author = workspace.users.get(message.user)
    return Post(
        ts=message.ts,
        author=message.user,
        author_name=author.real_name if author else message.user,
        persona=message.username,
        icon=message.icon_emoji or message.icon_url,
        text=message.text or _block_text(message.blocks),
        edited=message.edited is not None,
        broadcast=message.broadcast,
        reactions=tuple((name, len(users)) for name, users in message.reactions.items()),
        replies=replies,
    )


def build_transcript(workspace: Workspace) -> list[ChannelTranscript]:
    """Every channel with its top-level posts in order, each with its thread replies."""
    channels = []
    for channel in workspace.channels.values():
        stored = workspace.messages.get(channel.id, {})
        posts = []
        for message in stored.values():
            if message.is_reply:
                continue
            replies = tuple(_post(stored[ts], workspace) for ts in message.replies)
            posts.append(_post(message, workspace, replies))
        channels.append(ChannelTranscript(channel.id, channel.name, tuple(posts)))
    return channels


def _line(post: Post, indent: str) -> list[str]:
    icon = f" {post.icon}" if post.icon else ""
    via = f" (via {post.author_name})" if post.persona else ""
    marks = " (edited)" if post.edited else ""
    marks += " (also sent to the channel)" if post.broadcast else ""
    head = f"{indent}{post.shown_as}{icon}{via}{marks}:"
    pad = " " * (len(indent) + 2)
    lines = post.text.splitlines() or [""]
    out = [f"{head} {lines[0]}".rstrip()]
    out += [f"{pad}{line}" for line in lines[1:]]
    if post.reactions:
        out.append(pad + " ".join(f":{name}: {n}" for name, n in post.reactions))
    return out


def render_transcript(channels: list[ChannelTranscript], *, include_empty: bool = False) -> str:
    """Plain text for humans (the demo): channels, posts, and thread replies indented under them."""
    out: list[str] = []
    for channel in channels:
        if not channel.posts and not include_empty:
            continue
        out.append(f"#{channel.name}")
        for post in channel.posts:
            out += _line(post, "  ")
            for reply in post.replies:
                out += _line(reply, "    ↳ ")
        out.append("")
    return "\n".join(out).rstrip() + "\n" if out else "(no messages)\n"
