"""The two GraphQL mutations GitHub offers (and REST does not) for a pull request's draft flag.

GitHub un-drafts a pull request only through `markPullRequestReadyForReview` and drafts it
through `convertPullRequestToDraft`; PyGithub sends exactly these. Any other query is answered
with a GraphQL error, as GitHub answers a query it cannot resolve: HTTP 200 with `errors`.
"""

from __future__ import annotations

import re
from typing import Any

from emulators.github.http import Ctx, Reply, route
from emulators.github.pulls import announce_pull
from emulators.github.render import node_id

MUTATIONS = {
    "markPullRequestReadyForReview": (False, "ready_for_review"),
    "convertPullRequestToDraft": (True, "converted_to_draft"),
}


def _error(kind: str, message: str) -> Reply:
    return Reply(200, {"errors": [{"type": kind, "message": message}]})


@route("POST", "/graphql")
def graphql(ctx: Ctx) -> Reply:
    data = ctx.body()
    query = str(data.get("query") or "")
    found = re.search(r"\b(" + "|".join(MUTATIONS) + r")\s*\(", query)
    if found is None:
        return _error("UNSUPPORTED", "the emulator answers only the draft-flag mutations")
    mutation = found.group(1)
    variables: dict[str, Any] = data.get("variables") or {}
    wanted = str((variables.get("input") or {}).get("pullRequestId") or "")
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
