"""`GitHubForge` through the unpatched PyGithub against the GitHub emulator over loopback HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import github
import httpx
import pytest
from github import Auth

from bot.github import ClientOptions, GitHubApp, GitHubApps, GitHubForge
from bot.github.access import COMMENT
from bot.ports.forge import Annotation, InlineComment, ReviewDraft
from bot.roster.models import GitHubIdentity, Role, SlackIdentity
from bot.runs import publish
from bot.security.secrets import SecretScanner
from bot.settings import Settings
from bot.workspace.git import GitWorkspace
from emulators.github import GitHubEmulator, create_app
from emulators.server import running

REPO = "octo-org/widgets"
# Production waits shrunk: tiny 5xx backoff, no write spacing; Retry-After is still honoured.
FAST = ClientOptions(
    retries=3,
    backoff_factor=0.01,
    backoff_max=0.05,
    secondary_rate_wait=0.2,
    seconds_between_writes=None,
    token_refresh_margin=10,
)


@dataclass
class Seen:
    method: str
    path: str
    start: float
    end: float = 0.0


class Recorder:
    """ASGI middleware in front of the emulator: every request it serves, and how many writes
    were in flight at once."""

    def __init__(self, app) -> None:
        self.app = app
        self.seen: list[Seen] = []
        self.writing = 0
        self.most_writing = 0
        self._lock = threading.Lock()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Seen(scope["method"], scope["path"], time.monotonic())
        write = scope["method"] != "GET"
        with self._lock:
            self.seen.append(request)
            if write:
                self.writing += 1
                self.most_writing = max(self.most_writing, self.writing)
        try:
            await self.app(scope, receive, send)
        finally:
            request.end = time.monotonic()
            if write:
                with self._lock:
                    self.writing -= 1

    def requests(self, method: str, path_part: str) -> list[Seen]:
        return [s for s in self.seen if s.method == method and path_part in s.path]


class World:
    def __init__(self, tmp_path: Path, keys: tuple[bytes, bytes]) -> None:
        self.tmp_path = tmp_path
        self.skew = 0.0  # seconds the emulator's and the bot's clocks are moved on
        self.emulator = GitHubEmulator(tmp_path / "repos", clock=self.clock)
        self.emulator.add_user("octo-org", type="Organization")
        self.emulator.add_user("alice", token="ghp_alice")
        self.emulator.create_repo(
            REPO,
            files={"README.md": "# widgets\n", "src/app.py": "x = 1\n"},
            collaborators={"alice": "write", "bob": "triage"},
            private=True,
        )
        self.app = self.emulator.add_app(slug="repocrew", private_key_pem=keys[0])
        self.installation = self.emulator.install(self.app, "octo-org")
        self.reviewer_app = self.emulator.add_app(slug="crew-reviewer", private_key_pem=keys[1])
        self.emulator.install(self.reviewer_app, "octo-org", repositories=["widgets"])
        self.recorder = Recorder(create_app(self.emulator))
        self.url = ""

    def clock(self) -> float:
        return time.time() + self.skew

    def github_app(self, app=None) -> GitHubApp:
        app = app or self.app
        key = app.private_key_pem.decode()
        return GitHubApp(app.id, key, base_url=self.url, options=FAST, clock=self.clock)

    def forge(self, **role_clients) -> GitHubForge:
        return GitHubForge(
            REPO,
            installation_id=self.installation.id,
            clients=self.github_app(),
            role_clients=role_clients,
        )

    def human(self) -> github.Github:
        options = {"retry": None, "seconds_between_requests": None, "seconds_between_writes": None}
        return github.Github(auth=Auth.Token("ghp_alice"), base_url=self.url, **options)

    def branch(self, name: str, files: dict[str, str]) -> str:
        """A branch off main with one commit adding `files`; returns its head sha."""
        repo = self.human().get_repo(REPO)
        repo.create_git_ref(f"refs/heads/{name}", repo.get_branch("main").commit.sha)
        for path, content in files.items():
            repo.create_file(path, f"Add {path}", content, branch=name)
        return repo.get_branch(name).commit.sha

    def state(self):
        return self.emulator.repo(REPO)


@pytest.fixture(scope="module")
def keys() -> tuple[bytes, bytes]:
    """Two App keys, made once: RSA key generation is the slow part of a world."""
    spare = GitHubEmulator()
    return spare.add_app().private_key_pem, spare.add_app().private_key_pem


@pytest.fixture
def world(tmp_path: Path, keys: tuple[bytes, bytes]) -> Iterator[World]:
    world = World(tmp_path, keys)
    with running(world.recorder) as url:
        world.url = url
        world.emulator.base_url = url
        yield world


def issue_number(world: World) -> int:
    return world.human().get_repo(REPO).create_issue("Add a guide").number


# -- every Forge method round-trips ---------------------------------------------------------
def test_comments_are_created_listed_and_edited(world: World) -> None:
    forge, thread = world.forge(), issue_number(world)
    posted = forge.create_comment(thread, "Planning…", role="planner")
    assert posted.author == "repocrew[bot]" and posted.body == "Planning…"
    edited = forge.update_comment(posted.id, "The plan", role="planner")
    assert (edited.id, edited.body) == (posted.id, "The plan")
    assert forge.list_comments(thread) == [edited]


def test_comments_are_listed_past_one_page(world: World) -> None:
    forge, thread = world.forge(), issue_number(world)
    for n in range(130):
        forge.create_comment(thread, f"comment {n}", role="planner")
    listed = forge.list_comments(thread)
    assert [c.body for c in listed] == [f"comment {n}" for n in range(130)]
    pages = world.recorder.requests("GET", f"/issues/{thread}/comments")
    assert len(pages) == 2  # 100 per page


def test_a_draft_pull_request_is_opened_found_and_edited(world: World) -> None:
    world.branch("crew/guide", {"docs/guide.md": "hello\n"})
    forge = world.forge()
    opened = forge.create_pull(
        head="crew/guide", base="main", title="Guide", body="Adds it", draft=True, role="coder"
    )
    assert opened.draft and (opened.head, opened.base, opened.state) == (
        "crew/guide",
        "main",
        "open",
    )
    assert opened.url.endswith(f"/{REPO}/pull/{opened.number}")
    assert forge.find_pull("crew/guide") == opened
    assert forge.find_pull("crew/other") is None
    edited = forge.update_pull(opened.number, title="Guide v2", body="Adds it, better")
    assert (edited.title, edited.body, edited.draft) == ("Guide v2", "Adds it, better", True)
    assert forge.find_pull("crew/guide") == edited
    with pytest.raises(github.GithubException) as twice:
        forge.create_pull(
            head="crew/guide", base="main", title="Again", body="", draft=False, role="coder"
        )
    assert twice.value.status == 422


def test_a_draft_is_marked_ready_with_the_graphql_mutation(world: World) -> None:
    world.branch("crew/guide", {"docs/guide.md": "hello\n"})
    forge = world.forge()
    opened = forge.create_pull(
        head="crew/guide", base="main", title="Guide", body="", draft=True, role="coder"
    )
    ready = forge.update_pull(opened.number, title="Guide", body="", draft=False)
    assert ready.draft is False and forge.find_pull("crew/guide").draft is False
    assert world.recorder.requests("POST", "/graphql")
    assert world.state().pulls[opened.number].draft is False


def test_a_review_puts_its_comments_on_the_new_lines(world: World) -> None:
    head = world.branch("crew/guide", {"docs/guide.md": "one\ntwo\nthree\n"})
    reviewer = world.github_app(world.reviewer_app).for_repo(REPO)
    forge = world.forge(reviewer=reviewer)
    pull = forge.create_pull(
        head="crew/guide", base="main", title="Guide", body="", draft=False, role="coder"
    )
    comments = [
        InlineComment("docs/guide.md", 2, "Say two?"),
        InlineComment("docs/guide.md", 3, "3"),
    ]
    posted = forge.create_review(
        pull.number,
        ReviewDraft("Two notes", "REQUEST_CHANGES", head, tuple(comments)),
        role="reviewer",
    )
    assert (posted.event, posted.commit_sha, posted.comments) == (
        "REQUEST_CHANGES",
        head,
        tuple(comments),
    )
    assert forge.list_reviews(pull.number) == [posted]
    stored = world.state().pulls[pull.number]
    assert stored.reviews[0].user.login == "crew-reviewer[bot]"
    placed = [(c.path, c.line, c.side, c.commit_id) for c in stored.review_comments]
    assert placed == [("docs/guide.md", 2, "RIGHT", head), ("docs/guide.md", 3, "RIGHT", head)]


def test_a_verdict_on_the_apps_own_pull_request_is_posted_as_a_comment(world: World) -> None:
    head = world.branch("crew/guide", {"docs/guide.md": "one\n"})
    forge = world.forge()
    pull = forge.create_pull(
        head="crew/guide", base="main", title="Guide", body="", draft=False, role="coder"
    )
    posted = forge.create_review(
        pull.number,
        ReviewDraft("Changes, please", "REQUEST_CHANGES", head, ()),
        role="reviewer",
    )
    assert posted.event == "COMMENT"
    assert [r.state for r in world.state().pulls[pull.number].reviews] == ["COMMENTED"]


def test_a_check_run_is_created_then_completed_with_annotations_in_batches(world: World) -> None:
    head = world.branch("crew/tests", {"tests/test_x.py": "def test(): pass\n"})
    forge = world.forge()
    started = forge.create_check(
        head, "crew/tests", role="tester", status="in_progress", title="Running"
    )
    assert (started.status, started.title, started.summary) == ("in_progress", "Running", "Running")
    notes = [Annotation("tests/test_x.py", 1, f"failure {n}") for n in range(120)]
    done = forge.update_check(
        started.id, status="completed", conclusion="failure", summary="3 failed", annotations=notes
    )
    assert (done.status, done.conclusion, done.title, done.summary) == (
        "completed",
        "failure",
        "Running",
        "3 failed",
    )
    assert done.annotations == tuple(notes)
    patches = world.recorder.requests("PATCH", f"/check-runs/{started.id}")
    assert len(patches) == 3  # 50 + 50 + 20 annotations, completed with the last
    assert forge.list_checks(head, "crew/tests") == [done]
    assert forge.list_checks(head, "crew/other") == []


def test_a_commit_status_is_set(world: World) -> None:
    head = world.branch("crew/tests", {"a.txt": "a\n"})
    world.forge().set_status(head, context="crew/vote", state="success", description="x" * 300)
    (status,) = world.state().statuses
    assert (status.sha, status.context, status.state) == (head, "crew/vote", "success")
    assert len(status.description) == 140
    assert status.creator.login == "repocrew[bot]"


def test_the_clone_source_clones_a_private_repository(world: World, tmp_path: Path) -> None:
    source = world.forge().clone_source()
    assert source.url == f"{world.url}/{REPO}.git" and source.default_branch == "main"
    clone = GitWorkspace.clone(source.url, tmp_path / "clone", token=source.token)
    assert (clone.root / "src/app.py").read_text() == "x = 1\n"


# -- publishing twice makes one object ------------------------------------------------------
def test_publishing_twice_makes_one_of_each(world: World) -> None:
    head = world.branch("crew/run-7", {"src/new.py": "y = 2\n"})
    forge, guard, thread = world.forge(), SecretScanner(), issue_number(world)
    for body in ("Plan", "Plan", "Plan, revised"):
        comment = publish.upsert_comment(
            forge, guard, thread=thread, run_id=7, step="plan", body=body, role="planner"
        )
    assert [c.body for c in forge.list_comments(thread)] == [comment.body]
    assert len(world.recorder.requests("PATCH", "/issues/comments/")) == 1
    for _ in range(2):
        pull = publish.ensure_pull(
            forge,
            guard,
            run_id=7,
            head="crew/run-7",
            base="main",
            title="Run 7",
            body="Does it",
            draft=True,
            role="coder",
        )
    assert list(world.state().pulls) == [pull.number]
    for _ in range(2):
        publish.ensure_review(
            forge,
            guard,
            run_id=7,
            step="review-1",
            number=pull.number,
            draft=ReviewDraft("Fine", "COMMENT", head, (InlineComment("src/new.py", 1, "ok"),)),
            role="reviewer",
        )
    assert len(world.state().pulls[pull.number].reviews) == 1
    for status in ("in_progress", "completed"):
        publish.ensure_check(
            forge,
            guard,
            sha=head,
            name="crew/tests",
            role="tester",
            status=status,
            conclusion="success" if status == "completed" else None,
            title="Tests",
        )
    (check,) = world.state().check_runs.values()
    assert (check.status, check.conclusion) == ("completed", "success")


# -- retries, rate limits, tokens -----------------------------------------------------------
@pytest.mark.parametrize("kind", ["secondary_rate_limit", "rate_limited"])
def test_a_rate_limited_write_waits_for_retry_after(world: World, kind: str) -> None:
    forge, thread = world.forge(), issue_number(world)
    world.emulator.faults.add("POST", f"/repos/{REPO}/issues/{thread}/comments", kind)
    posted = forge.create_comment(thread, "Patience", role="planner")
    assert forge.list_comments(thread) == [posted]
    first, second = world.recorder.requests("POST", f"/issues/{thread}/comments")
    assert second.start - first.end >= 1.0  # the fault's Retry-After: 1


def test_a_burst_of_bad_gateways_is_retried_until_github_answers(world: World) -> None:
    forge, thread = world.forge(), issue_number(world)
    path = f"/repos/{REPO}/issues/{thread}/comments"
    world.emulator.faults.add("GET", path, "server_error", times=2)
    assert forge.list_comments(thread) == []
    assert len(world.recorder.requests("GET", path)) == 3
    world.emulator.faults.add("GET", path, "server_error", times=10)
    with pytest.raises(github.GithubException) as failed:
        forge.list_comments(thread)
    assert failed.value.status == 502
    assert len(world.recorder.requests("GET", path)) == 3 + 1 + FAST.retries


REFUSALS = {
    "not found": (404, "Not Found", {}),
    "no permission": (403, "Resource not accessible by integration", {}),
    "primary rate limit past the cap": (
        403,
        "API rate limit exceeded for installation ID 1.",
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 3600)},
    ),
}


@pytest.mark.parametrize("refusal", REFUSALS, ids=list(REFUSALS))
def test_refusals_are_not_retried(world: World, refusal: str) -> None:
    forge, thread = world.forge(), issue_number(world)
    status, message, headers = REFUSALS[refusal]
    path = f"/repos/{REPO}/issues/{thread}/comments"
    world.emulator.faults.add(
        "POST", path, status=status, body={"message": message}, headers=headers
    )
    with pytest.raises(github.GithubException) as refused:
        forge.create_comment(thread, "Hello", role="planner")
    assert refused.value.status == status
    assert len(world.recorder.requests("POST", path)) == 1
    assert forge.list_comments(thread) == []


def test_an_expired_installation_token_is_replaced(world: World) -> None:
    world.emulator.token_ttl = 100
    forge, thread = world.forge(), issue_number(world)
    forge.create_comment(thread, "one", role="planner")
    old = forge.main.token(REPO, COMMENT)
    forge.create_comment(thread, "two", role="planner")
    assert len(world.recorder.requests("POST", "/access_tokens")) == 1  # reused while valid
    world.skew += 101  # the emulator now refuses the token
    refused = httpx.get(f"{world.url}/repos/{REPO}", headers={"Authorization": f"token {old}"})
    assert refused.status_code == 401
    forge.create_comment(thread, "three", role="planner")
    assert forge.main.token(REPO, COMMENT) != old
    assert len(world.recorder.requests("POST", "/access_tokens")) == 2
    assert [c.body for c in forge.list_comments(thread)] == ["one", "two", "three"]


def test_writes_of_one_installation_take_turns(world: World) -> None:
    forge, thread = world.forge(), issue_number(world)
    path = f"/repos/{REPO}/issues/{thread}/comments"
    world.emulator.faults.add("POST", path, times=4, delay=0.1)
    writers = [
        threading.Thread(target=forge.create_comment, args=(thread, f"c{n}"), kwargs={"role": "x"})
        for n in range(4)
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert len(forge.list_comments(thread)) == 4
    assert world.recorder.most_writing == 1


# -- identities -----------------------------------------------------------------------------
def test_a_role_with_its_own_app_posts_as_that_app(world: World) -> None:
    key_dir = world.tmp_path / "keys"
    key_dir.mkdir()
    (key_dir / "reviewer.pem").write_bytes(world.reviewer_app.private_key_pem)
    settings = Settings(
        github_app_id=world.app.id,
        github_private_key=world.app.private_key_pem.decode(),
        github_api_url=world.url,
        crew_file=key_dir / "crew.toml",
    )
    apps = GitHubApps.from_settings(settings, options=FAST, clock=world.clock)
    identity = {"author_email": "r@example.invalid", "header": "**R**"}
    roles = [
        Role(
            key="reviewer",
            name="Reviewer",
            job="Reviews",
            github=GitHubIdentity(
                author_name="Reviewer",
                **identity,
                app_id=world.reviewer_app.id,
                private_key_path="reviewer.pem",
            ),
            slack=SlackIdentity(username="Reviewer"),
        ),
        Role(
            key="planner",
            name="Planner",
            job="Plans",
            github=GitHubIdentity(author_name="Planner", **identity),
            slack=SlackIdentity(username="Planner"),
        ),
    ]
    forge = GitHubForge.for_installation(
        apps, REPO, installation_id=world.installation.id, roles=roles
    )
    thread = issue_number(world)
    assert forge.create_comment(thread, "Reviewed", role="reviewer").author == "crew-reviewer[bot]"
    assert forge.create_comment(thread, "Planned", role="planner").author == "repocrew[bot]"
    head = world.branch("crew/x", {"x.txt": "x\n"})
    check = forge.create_check(head, "crew/review", role="reviewer", status="in_progress")
    # a fresh forge (a resumed run) finds which App made the check run; only it may update it
    again = GitHubForge.for_installation(
        apps, REPO, installation_id=world.installation.id, roles=roles
    )
    done = again.update_check(check.id, status="completed", conclusion="success")
    assert done.conclusion == "success"
    assert world.state().check_runs[check.id].app.slug == "crew-reviewer"


def test_collaborator_permissions_are_remembered_for_a_minute(world: World) -> None:
    forge = world.forge()
    assert [forge.permission_of(u) for u in ("octo-org", "alice", "bob", "mallory")] == [
        "admin",
        "write",
        "triage",
        "none",
    ]
    world.state().collaborators["alice"] = "read"
    assert forge.permission_of("alice") == "write"
    world.skew += 61
    assert forge.permission_of("alice") == "read"
    assert len(world.recorder.requests("GET", "/collaborators/alice/permission")) == 2


def test_the_triggers_read_and_label_issues(world: World) -> None:
    forge = world.forge()
    created = forge.create_issue("Follow-up", "Details", labels=["crew"], role="planner")
    assert (created.title, created.author, created.labels) == (
        "Follow-up",
        "repocrew[bot]",
        ("crew",),
    )
    forge.add_labels(created.number, "crew:planning", "bug")
    forge.remove_label(created.number, "crew")
    forge.remove_label(created.number, "crew")  # already off: nothing to do
    read = forge.get_issue(created.number)
    assert (read.body, read.labels, read.is_pull) == ("Details", ("crew:planning", "bug"), False)
