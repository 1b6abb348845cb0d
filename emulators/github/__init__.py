"""A local twin of api.github.com backed by real git repositories on disk.

`create_app(emulator)` serves a `GitHubEmulator`; `create_app()` alone serves
`GitHubEmulator.with_defaults()`: user `octocat` (personal token `ghp_octocat`), organization
`octo-org` with `octo-org/hello` (README.md on `main`), and app `repocrew` (app id 1) installed
on `octo-org` (installation id 1); its private key is `app.state.emulator.apps[1].private_key_pem`.

Repositories are also served over git's smart HTTP at `{base_url}/{owner}/{repo}.git` (HTTP
Basic, user `x-access-token`, a `ghs_`/`ghp_` token as password). Outgoing webhooks are off
until `emulator.webhooks.configure(url, secret)`; `emulator.webhooks.wait_idle()` waits for
them to be sent, `.deliveries` records them and `.redeliver(delivery)` sends one again.
"""

from emulators.github.app import create_app
from emulators.github.emulator import GitHubEmulator

__all__ = ["GitHubEmulator", "create_app"]
