"""Replies in review threads on the emulator: `POST …/pulls/{n}/comments/{id}/replies` answers
in GitHub's documented shape, and each reply sends a schema-valid
`pull_request_review_comment` `created` webhook."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import github
import pytest
import requests
from github import Auth
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_core.validation.response.exceptions import InvalidData

from emulators.github import create_app
from emulators.server import running
from tests.conftest import CORPUS
from tests.emulators.test_github_emulator import FAST, World, bot
from tests.emulators.test_github_fidelity import nullable_enum
from tests.emulators.test_github_webhooks import SECRET, Receiver, validate

REST = CORPUS / "github-rest"
REPLIES = "/repos/{owner}/{repo}/pulls/{pull_number}/comments/{comment_id}/replies"

# The corpus's 2022 subset leaves this operation out; this is GitHub's description of it
# (operationId pulls/create-reply-for-review-comment): 201 with a pull-request-review-comment,
# a Location header, 404 for a comment that is not there.
REPLY_OPERATION = {
    "post": {
        "operationId": "pulls/create-reply-for-review-comment",
        "parameters": [
            {"$ref": "#/components/parameters/owner"},
            {"$ref": "#/components/parameters/repo"},
            {"$ref": "#/components/parameters/pull-number"},
            {"$ref": "#/components/parameters/comment-id"},
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {"body": {"type": "string"}},
                        "required": ["body"],
                    }
                }
            },
        },
        "responses": {
            "201": {
                "description": "Response",
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/pull-request-review-comment"}
                    }
                },
                "headers": {"Location": {"schema": {"type": "string"}}},
            },
            "404": {"$ref": "#/components/responses/not_found"},
        },
    }
}


@cache
def openapi() -> OpenAPI:
    description = json.loads((REST / "openapi-subset.json").read_text())
    description["paths"][REPLIES] = REPLY_OPERATION
    return OpenAPI.from_dict(description)


def validate_reply(path: str, body: Any, response: requests.Response) -> None:
    request = requests.Request("POST", f"https://api.github.com{path}", json=body)
    try:
        openapi().validate_response(
            RequestsOpenAPIRequest(request), RequestsOpenAPIResponse(response)
        )
    except InvalidData as error:
        errors = getattr(error.__cause__, "schema_errors", ())
        if not errors or not all(nullable_enum(e) for e in errors):
            raise


@pytest.fixture
def hooked(tmp_path: Path, corpus: Path):
    world = World(tmp_path)
    receiver = Receiver()
    with running(receiver.app()) as hook_url:
        world.emulator.webhooks.configure(f"{hook_url}/hook", SECRET)
        with running(create_app(world.emulator)) as url:
            world.emulator.base_url = url
            yield world, url, receiver


def _pull_with_a_comment(world: World, url: str):
    """A pull request by the App with one inline comment by the App (the crew's finding)."""
    repo = bot(world, url).get_repo("octo-org/widgets")
    main = repo.get_branch("main").commit.sha
    repo.create_git_ref("refs/heads/topic", main)
    repo.create_file("src/grow.py", "Grow", "x = 1\ny = 2\n", branch="topic")
    pull = repo.create_pull(base="main", head="topic", title="Topic")
    root = pull.create_review_comment("Name this", pull.head.sha, "src/grow.py", line=2)
    return pull, root


def test_a_reply_answers_201_in_githubs_shape_under_the_threads_first_comment(hooked) -> None:
    world, url, _ = hooked
    pull, root = _pull_with_a_comment(world, url)
    path = f"/repos/octo-org/widgets/pulls/{pull.number}/comments/{root.id}/replies"
    alice = requests.Session()
    alice.headers["Authorization"] = "token ghp_alice"
    response = alice.post(url + path, json={"body": "Why?"}, timeout=10)

    assert response.status_code == 201, response.text
    validate_reply(path, {"body": "Why?"}, response)
    reply = response.json()
    assert reply["in_reply_to_id"] == root.id
    assert (reply["path"], reply["line"], reply["user"]["login"]) == ("src/grow.py", 2, "alice")
    assert response.headers["location"] == reply["url"]

    # Through PyGithub, as the crew replies; a reply to a reply is filed under the first one.
    human = github.Github(auth=Auth.Token("ghp_alice"), base_url=url, **FAST)
    mine = human.get_repo("octo-org/widgets").get_pull(pull.number)
    nested = mine.create_review_comment_reply(reply["id"], "And this?")
    assert nested.in_reply_to_id == root.id
    assert [c.body for c in mine.get_review_comments()] == ["Name this", "Why?", "And this?"]

    missing = alice.post(url + path.replace(str(root.id), "999999"), json={"body": "x"}, timeout=10)
    assert missing.status_code == 404
    validate_reply(path, {"body": "x"}, missing)
    alice.close()
    human.close()


def test_each_reply_sends_a_schema_valid_review_comment_webhook(hooked) -> None:
    world, url, receiver = hooked
    pull, root = _pull_with_a_comment(world, url)
    human = github.Github(auth=Auth.Token("ghp_alice"), base_url=url, **FAST)
    human.get_repo("octo-org/widgets").get_pull(pull.number).create_review_comment_reply(
        root.id, "Why?"
    )
    assert world.emulator.webhooks.wait_idle(10)

    created = [
        r.payload
        for r in receiver.received
        if r.event == "pull_request_review_comment" and r.payload["action"] == "created"
    ]
    assert [p["comment"]["body"] for p in created] == ["Name this", "Why?"]
    for payload in created:
        validate("pull_request_review_comment", payload)
    answered = created[1]
    assert answered["comment"]["in_reply_to_id"] == root.id
    assert answered["sender"]["login"] == "alice"
    assert answered["pull_request"]["number"] == pull.number
    human.close()
