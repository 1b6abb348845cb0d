"""The end-to-end world for the fault suites: `emulated_world` with GitHub's production waits
shrunk (retries still happen, Retry-After is still honoured), and helpers to watch a run."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import github
from sqlalchemy import select

from bot.github import ClientOptions
from bot.store.models import Job, ModelCall, SlackMessage
from repocrew import demo_session
from tests.support.world import REPO, World, emulated_world

# Three retries a few tenths of a second apart; no spacing of writes; Retry-After honoured.
FAST_GITHUB = ClientOptions(
    retries=3,
    backoff_factor=0.05,
    backoff_max=0.2,
    secondary_rate_wait=1.0,
    seconds_between_writes=None,
)


@contextmanager
def fault_world(tmp_path: Path) -> Iterator[World]:
    """The whole world on SQLite, its GitHub clients built with `FAST_GITHUB`."""
    database = f"sqlite:///{tmp_path / 'repocrew.db'}"
    with emulated_world(database, tmp_path / "work", github_options=FAST_GITHUB) as world:
        yield world


def start_run(world: World, files: dict[str, str] | None = None) -> Any:
    """Label the demo task's issue (after committing `files` to main); returns the issue."""
    repo = world.human.get_repo(REPO)
    for path, content in (files or {}).items():
        try:
            current = repo.get_contents(path, ref="main")
        except github.UnknownObjectException:
            repo.create_file(path, f"Add {path}", content, branch="main")
        else:  # the sample's own .repocrew.toml: keep what it sets, add what the test sets
            text = current.decoded_content.decode() + content
            repo.update_file(path, f"Update {path}", text, current.sha, branch="main")
    issue = repo.create_issue(demo_session.TASK_TITLE, body=demo_session.TASK_BODY)
    issue.add_to_labels("crew")
    return issue


def wait_until(check: Callable[[], Any], what: str, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def state_of(world: World) -> str:
    runs = world.runs()
    return runs[-1].state if runs else ""


def outbox_settled(world: World, timeout: float = 30) -> list[Any]:
    """The outbox once nothing is queued any more; its rows, oldest first."""

    def rows() -> list[Any]:
        with world.engine.connect() as connection:
            table = SlackMessage.__table__  # type: ignore[attr-defined]
            return list(connection.execute(select(table).order_by(table.c.id)).all())

    wait_until(lambda: all(row.status != "queued" for row in rows()), "the outbox", timeout)
    return rows()


def jobs(world: World, kind: str) -> list[Any]:
    table = Job.__table__  # type: ignore[attr-defined]
    with world.engine.connect() as connection:
        return list(connection.execute(select(table).where(table.c.kind == kind)).all())


def the_ended_job(world: World, kind: str) -> Any:
    """The one job of `kind`, once its worker has recorded its outcome: that comes just after
    the handler's own writes (a run's end among them), in the worker's next round."""
    wait_until(lambda: jobs(world, kind)[0].status != "running", f"the {kind} job's outcome")
    (job,) = jobs(world, kind)
    return job


def ledger(world: World) -> list[Any]:
    table = ModelCall.__table__  # type: ignore[attr-defined]
    with world.engine.connect() as connection:
        return list(connection.execute(select(table).order_by(table.c.id)).all())


def thread_replies(world: World) -> list[Any]:
    (thread,) = world.chat.channel_transcript("#crew").posts
    return thread.replies
