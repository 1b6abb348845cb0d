"""Outgoing webhooks: PyGithub drives the emulator; a loopback receiver checks what arrives."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import github
import pytest
from github import Auth
from jsonschema import Draft7Validator
from referencing import Registry
from referencing.jsonschema import DRAFT7
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulators.github import create_app
from emulators.github.hookshot import Hookshot
from emulators.server import free_port, running
from tests.conftest import CORPUS, GITHUB_SECRET
from tests.emulators.test_github_emulator import FAST, World, bot
from webhooks.app import create_app as create_intake
from webhooks.signatures import github_signature_valid

SCHEMAS = CORPUS / "github-webhooks" / "schemas"
SECRET = "emulator-hook-secret"


@cache
def registry() -> Registry:
    """Every schema under its `$id` (`common/user.schema.json`, `issues$opened`...), so the
    relative `$ref`s between them resolve (draft-07; a few files do not say so)."""
    resources = []
    for path in SCHEMAS.rglob("*.schema.json"):
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], DRAFT7.create_resource(schema)))
    return Registry().with_resources(resources)


def validate(event: str, payload: dict) -> None:
    schema = json.loads((SCHEMAS / event / f"{payload['action']}.schema.json").read_text())
    validator = Draft7Validator(
        schema, registry=registry(), format_checker=Draft7Validator.FORMAT_CHECKER
    )
    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message[:300]}"
        for error in validator.iter_errors(payload)
    ]
    assert not errors, f"{event}.{payload['action']}: " + "\n".join(errors)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> str:
        return self.headers["x-github-event"]

    @property
    def payload(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A loopback webhook endpoint that records each request and answers `status`."""

    status: int = 200
    received: list[Received] = field(default_factory=list)

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            self.received.append(Received(dict(request.headers), await request.body()))
            return Response(status_code=self.status)

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    found = Receiver()
    with running(found.app()) as url:
        yield found, f"{url}/hook"


@pytest.fixture
def base_url(world: World, receiver: tuple[Receiver, str]) -> Iterator[str]:
    world.emulator.webhooks.configure(receiver[1], SECRET)
    with running(create_app(world.emulator)) as url:
        world.emulator.base_url = url
        yield url


def drive_everything(world: World, base_url: str) -> list[tuple[str, str]]:
    """Every change that sends a webhook; returns the (event, action) pairs expected, in order."""
    world.emulator.add_user("acme")
    world.emulator.create_repo("acme/tools", files={"a.txt": "a\n"})
    world.emulator.install(world.app, "acme", sender="alice")

    human = github.Github(auth=Auth.Token("ghp_alice"), base_url=base_url, **FAST)
    issue = human.get_repo("octo-org/widgets").create_issue("Bug", body="It breaks", labels=["bug"])
    issue.edit(title="Bug: it breaks")
    issue.add_to_labels("triage")
    issue.remove_from_labels("bug")
    repo = bot(world, base_url).get_repo("octo-org/widgets")
    comment = repo.get_issue(issue.number).create_comment("On it")
    comment.edit("On it now")
    repo.get_issue(issue.number).edit(state="closed")

    main_sha = repo.get_branch("main").commit.sha
    repo.create_git_ref("refs/heads/feature", main_sha)
    repo.create_file("docs/guide.md", "Add a guide", "hello\n", branch="feature")
    pull = repo.create_pull(base="main", head="feature", title="Guide", draft=True)
    guide = repo.get_contents("docs/guide.md", ref="feature")
    repo.update_file("docs/guide.md", "Grow the guide", "hello\nworld\n", guide.sha, "feature")
    pull._requester.requestJsonAndCheck("PATCH", pull.url, input={"draft": False})
    head = repo.get_pull(pull.number).head.sha
    mine = human.get_repo("octo-org/widgets").get_pull(pull.number)
    mine.create_review(
        body="Looks good",
        event="COMMENT",
        comments=[{"path": "docs/guide.md", "line": 1, "side": "RIGHT", "body": "Nice"}],
    )
    mine.create_review_comment("And this", head, "docs/guide.md", line=2, side="RIGHT")
    run = repo.create_check_run("crew/review", head, status="in_progress")
    run.edit(status="completed", conclusion="success", output={"title": "Ok", "summary": "ok"})
    pull.merge(merge_method="squash")
    return [
        ("installation", "created"),
        ("issues", "opened"),
        ("issues", "labeled"),
        ("issues", "edited"),
        ("issues", "labeled"),
        ("issues", "unlabeled"),
        ("issue_comment", "created"),
        ("issue_comment", "edited"),
        ("issues", "closed"),
        ("pull_request", "opened"),
        ("pull_request", "synchronize"),
        ("pull_request", "ready_for_review"),
        ("pull_request_review", "submitted"),
        ("pull_request_review_comment", "created"),
        ("pull_request_review", "submitted"),
        ("pull_request_review_comment", "created"),
        ("check_run", "created"),
        ("check_run", "completed"),
        ("pull_request", "closed"),
    ]


def test_every_change_is_delivered_in_order_signed_and_schema_valid(
    world: World, base_url: str, receiver: tuple[Receiver, str], corpus: Path
) -> None:
    expected = drive_everything(world, base_url)
    hookshot = world.emulator.webhooks
    assert hookshot.wait_idle(10)
    got = receiver[0].received
    assert [(r.event, r.payload["action"]) for r in got] == expected
    for received in got:
        headers, payload = received.headers, received.payload
        signed = headers["x-hub-signature-256"]
        assert github_signature_valid(SECRET.encode(), received.body, signed)
        sha1 = hmac.new(SECRET.encode(), received.body, hashlib.sha1).hexdigest()
        assert headers["x-hub-signature"] == f"sha1={sha1}"
        assert uuid.UUID(headers["x-github-delivery"])
        assert headers["user-agent"].startswith("GitHub-Hookshot/")
        assert headers["content-type"] == "application/json"
        assert headers["x-github-hook-id"] == str(hookshot.hook_id)
        assert headers["x-github-hook-installation-target-type"] == "integration"
        assert headers["x-github-hook-installation-target-id"] == str(world.app.id)
        validate(received.event, payload)
        if received.event != "installation":
            assert payload["installation"]["id"] == world.installation.id
            assert payload["organization"]["login"] == "octo-org"
            assert payload["repository"]["clone_url"] == f"{base_url}/octo-org/widgets.git"

    by_kind = {(r.event, r.payload["action"]): r.payload for r in got}
    assert by_kind[("issues", "opened")]["sender"]["login"] == "alice"
    bot_sender = by_kind[("issue_comment", "created")]["sender"]
    assert (bot_sender["login"], bot_sender["type"]) == ("repocrew[bot]", "Bot")
    assert by_kind[("issues", "labeled")]["label"]["name"] == "triage"
    assert by_kind[("issues", "edited")]["changes"] == {"title": {"from": "Bug"}}
    assert by_kind[("issue_comment", "edited")]["changes"] == {"body": {"from": "On it"}}
    sync = by_kind[("pull_request", "synchronize")]
    assert sync["after"] == sync["pull_request"]["head"]["sha"] != sync["before"]
    assert by_kind[("pull_request", "closed")]["pull_request"]["merged"] is True
    assert by_kind[("pull_request_review", "submitted")]["review"]["state"] == "commented"
    check = by_kind[("check_run", "completed")]["check_run"]
    assert check["conclusion"] == "success"
    assert [p["number"] for p in check["pull_requests"]] == [1 + 1]  # the issue took #1
    installed = by_kind[("installation", "created")]
    assert [r["full_name"] for r in installed["repositories"]] == ["acme/tools"]
    assert installed["sender"]["login"] == "alice"

    records = hookshot.deliveries
    assert [(d.event, d.action) for d in records] == expected
    assert [d.guid for d in records] == [r.headers["x-github-delivery"] for r in got]
    assert all(d.status == 200 and d.error is None for d in records)


def test_other_pull_request_and_issue_changes_are_schema_valid(
    world: World, base_url: str, receiver: tuple[Receiver, str], corpus: Path
) -> None:
    repo = bot(world, base_url).get_repo("octo-org/widgets")
    main_sha = repo.get_branch("main").commit.sha
    repo.create_git_ref("refs/heads/topic", main_sha)
    repo.create_file("topic.txt", "Topic", "t\n", branch="topic")
    pull = repo.create_pull(base="main", head="topic", title="Topic")
    pull.edit(title="Topic, renamed", body="Now with a body")
    as_issue = repo.get_issue(pull.number)
    as_issue.add_to_labels("bug")  # labels on a pull request send `pull_request` events
    as_issue.remove_from_labels("bug")
    pull._requester.requestJsonAndCheck("PATCH", pull.url, input={"draft": True})
    pull.edit(state="closed")
    pull.edit(state="open")
    issue = repo.create_issue("Reopen me")
    issue.edit(state="closed", state_reason="not_planned")
    issue.edit(state="open")
    assert world.emulator.webhooks.wait_idle(10)
    got = receiver[0].received
    assert [(r.event, r.payload["action"]) for r in got] == [
        ("pull_request", "opened"),
        ("pull_request", "edited"),
        ("pull_request", "labeled"),
        ("pull_request", "unlabeled"),
        ("pull_request", "converted_to_draft"),
        ("pull_request", "closed"),
        ("pull_request", "reopened"),
        ("issues", "opened"),
        ("issues", "closed"),
        ("issues", "reopened"),
    ]
    for received in got:
        validate(received.event, received.payload)
    assert got[1].payload["changes"] == {"title": {"from": "Topic"}, "body": {"from": ""}}
    assert got[5].payload["pull_request"]["merged"] is False


def test_a_redelivery_repeats_the_delivery_id_and_body(
    world: World, base_url: str, receiver: tuple[Receiver, str]
) -> None:
    repo = bot(world, base_url).get_repo("octo-org/widgets")
    repo.create_issue("One")
    repo.create_issue("Two")
    hookshot = world.emulator.webhooks
    assert hookshot.wait_idle(10)
    first = hookshot.deliveries
    receiver[0].status = 500
    again = [hookshot.redeliver(d) for d in first]
    assert hookshot.wait_idle(10)
    got = receiver[0].received
    assert [r.headers["x-github-delivery"] for r in got] == [d.guid for d in first] * 2
    assert [r.body for r in got[2:]] == [d.body for d in first]
    assert [d.redelivery for d in hookshot.deliveries] == [False, False, True, True]
    assert [d.status for d in again] == [500, 500]


def test_webhooks_are_off_until_configured_and_can_be_turned_off(
    world: World, receiver: tuple[Receiver, str]
) -> None:
    with running(create_app(world.emulator)) as url:
        repo = bot(world, url).get_repo("octo-org/widgets")
        repo.create_issue("Unheard")
        world.emulator.webhooks.configure(receiver[1], SECRET)
        repo.create_issue("Heard")
        world.emulator.webhooks.configure(None)
        repo.create_issue("Unheard again")
    assert world.emulator.webhooks.wait_idle(10)
    assert [r.payload["issue"]["title"] for r in receiver[0].received] == ["Heard"]


def test_an_unreachable_target_is_recorded_and_later_deliveries_still_go(
    world: World, receiver: tuple[Receiver, str]
) -> None:
    hookshot = Hookshot(f"http://127.0.0.1:{free_port()}/hook", SECRET, timeout=2)
    world.emulator.webhooks = hookshot
    with running(create_app(world.emulator)) as url:
        repo = bot(world, url).get_repo("octo-org/widgets")
        repo.create_issue("Lost")
        assert hookshot.wait_idle(10)
        hookshot.configure(receiver[1], SECRET)
        repo.create_issue("Found")
        assert hookshot.wait_idle(10)
    lost, found = hookshot.deliveries
    assert lost.status is None and lost.error
    assert (found.status, found.error) == (200, None)


@pytest.fixture
def intake_url(settings, engine) -> Iterator[str]:
    with running(create_intake(settings, engine=engine)) as url:
        yield f"{url}/github/webhook"


def test_repocrew_intake_accepts_every_delivery_and_each_replay(
    world: World, intake_url: str
) -> None:
    hookshot = world.emulator.webhooks
    hookshot.configure(intake_url, GITHUB_SECRET)
    with running(create_app(world.emulator)) as url:
        world.emulator.base_url = url
        expected = drive_everything(world, url)
    assert hookshot.wait_idle(20)
    first = hookshot.deliveries
    assert [(d.event, d.action) for d in first] == expected
    assert [d.status for d in first] == [202] * len(first), [d.error for d in first]
    for delivery in first:
        hookshot.redeliver(delivery)
    assert hookshot.wait_idle(20)
    assert [d.status for d in hookshot.deliveries[len(first) :]] == [200] * len(first)
