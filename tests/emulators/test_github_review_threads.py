"""The GitHub emulator's review threads over GraphQL, in GitHub's documented shapes: the
`reviewThreads` connection of a pull request and `resolveReviewThread`, through PyGithub's
GraphQL requester."""

from __future__ import annotations

import github
import pytest

from bot.github.review_threads import RESOLVE_MUTATION, THREADS_QUERY
from emulators.github import GitHubEmulator
from emulators.github import create_app as github_app
from emulators.server import running


def test_threads_are_listed_resolved_and_unknown_ones_refused():
    hub = GitHubEmulator.with_defaults()
    hub.create_repo("octo-org/shop", files={"a.py": "x = 1\n"}, collaborators={"octocat": "admin"})
    with running(github_app(hub)) as url:
        gh = github.Github(base_url=url, auth=github.Auth.Token("ghp_octocat"))
        repo = gh.get_repo("octo-org/shop")
        repo.create_git_ref("refs/heads/topic", repo.get_branch("main").commit.sha)
        repo.update_file("a.py", "Two", "x = 2\n", repo.get_contents("a.py").sha, branch="topic")
        pull = repo.create_pull(title="Two", body="", head="topic", base="main")
        commit = repo.get_commit(pull.head.sha)
        first = pull.create_review_comment("Why 2?", commit, "a.py", line=1)
        requester = repo.requester
        variables = {"owner": "octo-org", "name": "shop", "number": pull.number, "after": None}

        _, data = requester.graphql_query(THREADS_QUERY, variables)
        connection = data["data"]["repository"]["pullRequest"]["reviewThreads"]
        (thread,) = connection["nodes"]
        assert thread["isResolved"] is False and thread["path"] == "a.py"
        assert [c["databaseId"] for c in thread["comments"]["nodes"]][0] == first.id
        assert thread["comments"]["totalCount"] == 1
        assert connection["pageInfo"] == {"hasNextPage": False, "endCursor": "1"}
        assert connection["totalCount"] == 1

        _, done = requester.graphql_query(RESOLVE_MUTATION, {"input": {"threadId": thread["id"]}})
        assert done["data"]["resolveReviewThread"]["thread"]["isResolved"] is True
        _, data = requester.graphql_query(THREADS_QUERY, variables)
        (again,) = data["data"]["repository"]["pullRequest"]["reviewThreads"]["nodes"]
        assert again["isResolved"] is True and again["resolvedBy"] == {"login": "octocat"}

        with pytest.raises(github.UnknownObjectException):
            requester.graphql_query(RESOLVE_MUTATION, {"input": {"threadId": "PRRT_nope"}})
        reader = github.Github(base_url=url).get_repo("octo-org/shop").requester
        with pytest.raises(github.GithubException):  # anonymous callers may not resolve
            reader.graphql_query(RESOLVE_MUTATION, {"input": {"threadId": thread["id"]}})
