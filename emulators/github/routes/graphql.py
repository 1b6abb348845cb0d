"""GitHub's GraphQL endpoint, for what GitHub offers only there: a pull request's draft flag
(`markPullRequestReadyForReview`, `convertPullRequestToDraft`, which PyGithub sends) and its
review threads (the `reviewThreads` connection, `resolveReviewThread`, `unresolveReviewThread`;
see `emulators/github/review_threads.py`). Any other query is answered with a GraphQL error, as
GitHub answers a query it cannot resolve: HTTP 200 with `errors`.
"""

from __future__ import annotations

import re
from typing import Any

from emulators.github.http import Ctx, HTTPError, Reply, route
from emulators.github.pulls import announce_pull
from emulators.github.render import node_id
from emulators.github.review_threads import review_threads, set_resolved

MUTATIONS = {
    "markPullRequestReadyForReview": (False, "ready_for_review"),
    "convertPullRequestToDraft": (True, "converted_to_draft"),
}
THREAD_MUTATIONS = {"resolveReviewThread": True, "unresolveReviewThread": False}
_NAMES = "|".join([*MUTATIONS, *THREAD_MUTATIONS])


def _error(kind: str, message: str) -> Reply:
    return Reply(200, {"errors": [{"type": kind, "message": message}]})


@route("POST", "/graphql")
def graphql(ctx: Ctx) -> Reply:
    data = ctx.body()
    query = str(data.get("query") or "")
    variables: dict[str, Any] = data.get("variables") or {}
    found = re.search(r"\b(" + _NAMES + r")\s*\(", query)
    if found is None and re.search(r"\breviewThreads\b", query):
        try:
            return Reply(200, {"data": review_threads(ctx, variables)})
        except HTTPError as error:
            if error.status != 404:
                raise
            return _error("NOT_FOUND", str(error))
    if found is None:
        return _error("UNSUPPORTED", "the emulator answers only the draft-flag mutations and "
                      "review threads")  # fmt: skip
    mutation = found.group(1)
    given = variables.get("input") or {}
    if mutation in THREAD_MUTATIONS:
        wanted = str(given.get("threadId") or "")
        result = set_resolved(ctx, wanted, resolved=THREAD_MUTATIONS[mutation])
        if result is None:
            return _error("NOT_FOUND", f"Could not resolve to a node with the global id of "
                          f"'{wanted}'")  # fmt: skip
        result["clientMutationId"] = given.get("clientMutationId")
        return Reply(200, {"data": {mutation: result}})
    return _draft_flag(ctx, mutation, str(given.get("pullRequestId") or ""))


def _draft_flag(ctx: Ctx, mutation: str, wanted: str) -> Reply:
    for repo in list(ctx.emulator.repos.values()):
        for pull in repo.pulls.values():
            if node_id("PullRequest", pull.id) != wanted:
                continue
            ctx.params.update(owner=repo.owner.login, repo=repo.name)
            repo = ctx.repo(write="pull_requests")
            draft, action = MUTATIONS[mutation]
            if pull.draft != draft:
                pull.draft = draft
                pull.issue.updated_at = ctx.emulator.now()
                announce_pull(ctx, repo, pull, action)
            result = {"clientMutationId": None, "pullRequest": {"isDraft": draft}}
            return Reply(200, {"data": {mutation: result}})
    return _error("NOT_FOUND", f"Could not resolve to a node with the global id of '{wanted}'")
