"""A local twin of the Anthropic Messages API, answering from a script (see `AnthropicEmulator`).

emulator = AnthropicEmulator([Turn.tool_use("read_file", {"path": "README.md"}),
                              Turn.text("Done.")])
with running(create_app(emulator)) as url:
    client = anthropic.Anthropic(api_key="test", base_url=url)
"""

from emulators.anthropic.app import create_app
from emulators.anthropic.emulator import AnthropicEmulator, RecordedRequest, Reply
from emulators.anthropic.script import Match, Script, ScriptError, Turn, load_script

__all__ = [
    "AnthropicEmulator",
    "Match",
    "RecordedRequest",
    "Reply",
    "Script",
    "ScriptError",
    "Turn",
    "create_app",
    "load_script",
]
