"""`/crew review` of a human's pull request on the GitHub emulator, the reviewer scripted on the
Anthropic emulator: it reads a numbered diff (a 5,000-line lockfile only listed), a comment on a
line outside the diff comes back to it as a tool error, and its corrected comment lands inline.

Real clone over smart HTTP, the real GitHub forge through PyGithub, the real agent loop through
the anthropic SDK; driven in-process (webhooks and the worker are covered elsewhere).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import github
import pytest

from bot.llm.client import ModelClient
from bot.roster.loader import load_crew
from bot.runs.driver import drive
from bot.runs.lifecycle import crew_snapshot
from bot.runs.progress import create_run
from bot.store.model_calls import transcript
from bot.store.runs import get_run
from bot.wiring import services_for
from emulators.anthropic import AnthropicEmulator, Turn
from emulators.anthropic import create_app as anthropic_app
from emulators.anthropic.script import Script
from emulators.github import GitHubEmulator
from emulators.github import create_app as github_app
from emulators.server import running
from tests.conftest import make_settings

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

KEY = "sk-ant-test-emulator-key-0011-review"
REPO = "octo-org/shop"
# A 40-line module; the pull request changes line 30 only, so lines 1-26 are outside the diff.
USERS_BEFORE = "".join(f"def helper_{n}():\n    return {n}\n\n\n" for n in range(6)) + (
    "".join(f"# note {n}\n" for n in range(16))
)
USERS_LINES = USERS_BEFORE.splitlines(keepends=True)
CHANGED = "# note 5: names are checked before use\n"
USERS_AFTER = "".join(USERS_LINES[:29] + [CHANGED] + USERS_LINES[30:])
LOCKFILE = (
    '{\n  "lockfileVersion": 3,\n  "packages": {\n'
    + "".join(f'    "node_modules/dep-{n:04d}": {{"version": "1.0.{n}"}},\n' for n in range(4994))
    + '    "": {}\n  }\n}\n'
)
# The reviewer's request stays under this, whatever the lockfile's size (measured: 7,088 bytes;
# the lockfile alone is over 200 KB).
MAX_REQUEST_BYTES = 40_000

CHECKLIST = [{"item": "Input validation", "status": "pass", "reason": "names are checked"}]


def _review(line: int) -> dict[str, Any]:
    return {
        "summary": "One note.",
        "verdict": "comment",
        "comments": [
            {
                "path": "app/users.py",
                "line": line,
                "body": "Say which names, and where they are checked.",
                "severity": "low",
                "rule": "vague-comment",
            }
        ],
        "checklist": CHECKLIST,
    }


def _reviewer(turn: int, answer: dict[str, Any]) -> Turn:
    match = {"system": "You are Reviewer on", "first_user": "[step: review-1]", "turn": turn}
    return Turn(content=Turn.tool_use("submit_review", answer).content, match=match)


@pytest.fixture
def hub_and_model() -> Iterator[tuple[GitHubEmulator, AnthropicEmulator, str, str]]:
    hub = GitHubEmulator.with_defaults()
    model = AnthropicEmulator(Script([_reviewer(0, _review(3)), _reviewer(1, _review(30))]))
    with running(github_app(hub)) as hub_url, running(anthropic_app(model)) as model_url:
        hub.base_url = hub_url
        yield hub, model, hub_url, model_url


def _pull_request(hub: GitHubEmulator, hub_url: str) -> Any:
    """octocat's pull request: one line of app/users.py changed, and a new package-lock.json."""
    hub.create_repo(REPO, files={"app/users.py": USERS_BEFORE}, collaborators={"octocat": "admin"})
    human = github.Github(base_url=hub_url, auth=github.Auth.Token("ghp_octocat"))
    repo = human.get_repo(REPO)
    repo.create_git_ref("refs/heads/octocat-patch", repo.get_branch("main").commit.sha)
    users = repo.get_contents("app/users.py", ref="octocat-patch")
    repo.update_file("app/users.py", "Clearer", USERS_AFTER, users.sha, branch="octocat-patch")
    repo.create_file("package-lock.json", "Lock", LOCKFILE, branch="octocat-patch")
    return repo.create_pull(title="Clearer note", body="Please review.", head="octocat-patch",
                            base="main")  # fmt: skip


def test_a_comment_off_the_diff_is_corrected_and_lands_inline(
    engine, database_url, hub_and_model, tmp_path
):
    hub, model, hub_url, model_url = hub_and_model
    pull = _pull_request(hub, hub_url)
    settings = make_settings(
        database_url,
        github_app_id=1,
        github_private_key=hub.apps[1].private_key_pem.decode(),
        github_api_url=hub_url,
        anthropic_api_key=KEY,
        anthropic_base_url=model_url,
        work_dir=tmp_path / "work",
    )
    run_id = create_run(
        engine,
        repo=REPO,
        clone_url=hub.repo(REPO).http_url,
        installation_id=1,
        requested_by="octocat <1+octocat@users.noreply.github.com>",
        forge="github",
        config=crew_snapshot(load_crew(None)),
        title=pull.title,
        task=pull.body,
        pr_number=pull.number,
        mode="review",
    )
    client = ModelClient(api_key=KEY, base_url=model_url, max_retries=0)
    state = drive(services_for(engine, settings, run_id, model=client), run_id)
    assert state.value == "awaiting_human", get_run(engine, run_id).reason

    # The reviewer read the code's numbered lines, and the lockfile only as a line.
    bodies = [b for b in model.message_bodies() if "[step: review-1]" in json.dumps(b)]
    assert len(bodies) == 2
    seen = json.dumps(bodies[0]["system"])
    assert "30 +# note 5: names are checked before use" in seen
    assert "27  # note 2" in seen and "   -# note 5" in seen
    assert "package-lock.json (+5000 -0, new): lockfile" in seen and "dep-0042" not in seen
    largest = max(len(json.dumps(body).encode()) for body in bodies)
    assert largest < MAX_REQUEST_BYTES, largest
    assert len(LOCKFILE) > 200_000  # what an unsummarised diff would have added

    # Its comment on line 3 came back as a tool error naming the lines it may take.
    (refused,) = [b for b in bodies[1]["messages"][-1]["content"] if b["type"] == "tool_result"]
    assert refused["is_error"] is True
    assert "comments[0] at app/users.py:3: not a line of the diff; app/users.py takes lines " \
        "27-33" in refused["content"]  # fmt: skip

    # The corrected comment is on GitHub, inline on line 30; nothing was moved to the body.
    comments = hub.repo(REPO).pulls[pull.number].review_comments
    assert [(c.path, c.line, c.side) for c in comments] == [("app/users.py", 30, "RIGHT")]
    (review,) = hub.repo(REPO).pulls[pull.number].reviews
    assert "app/users.py:3" not in review.body
    said = transcript(engine, run_id, role="reviewer")[0]
    assert [r.get("is_error", False) for r in said["tool_results"]] == [True]
