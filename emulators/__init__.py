"""Local twins of GitHub, Slack and the Anthropic API that speak the real wire protocols.

Each emulator is a small ASGI app; `emulators.server.running` serves one on a loopback port in
a background thread, and `repocrew emulate NAME --port N` serves one standalone.
"""
