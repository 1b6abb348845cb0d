"""The workspace every emulator starts with unless told otherwise, and its well-known ids."""

from __future__ import annotations

from .state import BOT_SCOPES, Channel, Team, Token, User, Workspace

DEFAULT_TOKEN = "xoxb-emulator"
DEFAULT_SIGNING_SECRET = "emulator-signing-secret"
VERIFICATION_TOKEN = "emulator-verification-token"
TEAM, APP, BOT_ID, BOT_USER, HUMAN = "T0001", "A0001", "B0001", "U0002", "U0001"


def seed_default(workspace: Workspace) -> None:
    """Team T0001 "Repocrew Emulated": #general (C0001) and #crew (C0002); human U0001 (ada),
    bot user U0002 (repocrew, bot B0001, app A0001) holding token `xoxb-emulator`, a member of
    #crew only, so posting to #general gives `not_in_channel` until it joins."""
    created = 1700000000
    workspace.add_team(Team(TEAM, "Repocrew Emulated", "repocrew-emulated"))
    workspace.add_user(User(HUMAN, TEAM, "ada", "Ada Lovelace", email="ada@example.com"))
    workspace.add_user(
        User(BOT_USER, TEAM, "repocrew", "repocrew", is_bot=True, bot_id=BOT_ID, app_id=APP)
    )
    general = Channel("C0001", TEAM, "general", created, HUMAN, is_general=True)
    general.purpose = "This channel is for workspace-wide communication and announcements."
    general.members |= {HUMAN}
    crew = Channel("C0002", TEAM, "crew", created, HUMAN, topic="Where the crew works")
    crew.members |= {HUMAN, BOT_USER}
    workspace.add_channel(general)
    workspace.add_channel(crew)
    workspace.add_token(Token(DEFAULT_TOKEN, TEAM, BOT_USER, BOT_ID, BOT_SCOPES))
