"""A local twin of api.github.com backed by real git repositories on disk.

`create_app(emulator)` serves a `GitHubEmulator`; `create_app()` alone serves
`GitHubEmulator.with_defaults()`: user `octocat` (personal token `ghp_octocat`), organization
`octo-org` with `octo-org/hello` (README.md on `main`), and app `repocrew` (app id 1) installed
on `octo-org` (installation id 1); its private key is `app.state.emulator.apps[1].private_key_pem`.
"""

from emulators.github.app import create_app
from emulators.github.emulator import GitHubEmulator

__all__ = ["GitHubEmulator", "create_app"]
