"""After the demo: what it shows in the terminal, and (for `repocrew start`) the dashboard over
the demo's store, with the emulators still up, until Ctrl-C."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from repocrew.demo import DemoSummary
from repocrew.demo_report import story_renderables
from repocrew.world import World
from webhooks.dashboard.login_link import LoginLinks, login_path


def show_story(summary: DemoSummary, console: Console) -> None:
    for renderable in story_renderables(summary.story):
        console.print(renderable)


def store_lines(root: Path, run_id: int | None) -> list[str]:
    """How `repocrew metrics` and `repocrew replay` find the demo's store."""
    url = f"REPOCREW_DATABASE_URL=sqlite:///{root / 'repocrew.db'}"
    return [
        f"The store is in {root}; to explore it:",
        f"  {url} repocrew metrics",
        f"  {url} repocrew replay {run_id if run_id is not None else 'RUN'}",
    ]


def dashboard_lines(base_url: str, code: str, run_id: int | None) -> list[str]:
    """The dashboard's address and the one-time link that logs this browser in."""
    where = f"{base_url}/dashboard" + (f"/runs/{run_id}" if run_id is not None else "")
    return [
        f"Dashboard: {where}",
        f"Log in once with: {base_url}{login_path(code)}",
        "Serving the demo's store until Ctrl-C.",
    ]


def browsable(url: str) -> str:
    """The URL a browser on this machine opens: a server on every interface is on loopback."""
    return url.replace("://0.0.0.0:", "://127.0.0.1:")


def serve_until_stopped(echo: Callable[[str], None]) -> Callable[[World, DemoSummary], None]:
    """What `run_demo(then=...)` calls: print the dashboard's link, then wait for a signal."""

    def serve(world: World, summary: DemoSummary) -> None:
        links = LoginLinks()
        world.app.state.login_links = links
        root = Path(world.settings.database_url.removeprefix("sqlite:///")).parent
        for line in store_lines(root, summary.run_id):
            echo(line)
        for line in dashboard_lines(browsable(world.crew_url), links.issue(), summary.run_id):
            echo(line)
        stopping = threading.Event()
        previous = {s: signal.signal(s, lambda *_: stopping.set()) for s in STOP_SIGNALS}
        try:
            stopping.wait()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        echo("stopped")

    return serve


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
