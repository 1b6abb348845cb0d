"""What a request to GitHub may do: named access levels, and the token request for one.

Installation tokens are minted for the one repository a run works on and the permissions the
call needs (GitHub's `repositories` and `permissions` fields on `POST /app/installations/{id}/
access_tokens`), never installation-wide with everything the App holds: a token that leaks
from a clone or a test can read that repository's code, not push, post or touch another one.

| access | permissions | used for |
|---|---|---|
| READ | contents: read | cloning and fetching, reading files, the repository itself |
| COMMENT | issues: write | comments, labels and issues |
| PULL | pull_requests: write, contents: read | pull requests and reviews |
| PUSH | contents: write | `git push` of the crew's branch, and nothing else |
| CHECKS | checks: write | check runs |
| STATUSES | statuses: write | commit statuses |
| METADATA | metadata: read, every repository | listing the installation's repositories |

Every token also gets `metadata: read` (GitHub grants it to each token anyway).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Access:
    name: str
    permissions: tuple[tuple[str, str], ...]
    # False only for METADATA, the one access that is not limited to a repository.
    per_repository: bool = True

    def as_permissions(self) -> dict[str, str]:
        return {"metadata": "read", **dict(self.permissions)}


READ = Access("read", (("contents", "read"),))
COMMENT = Access("comment", (("issues", "write"),))
PULL = Access("pull", (("pull_requests", "write"), ("contents", "read")))
PUSH = Access("push", (("contents", "write"),))
CHECKS = Access("checks", (("checks", "write"),))
STATUSES = Access("statuses", (("statuses", "write"),))
METADATA = Access("metadata", (), per_repository=False)

LEVELS = (READ, COMMENT, PULL, PUSH, CHECKS, STATUSES, METADATA)


def token_request(repo_full_name: str | None, access: Access) -> dict[str, Any]:
    """The body of the access-token request: the repository (by name: the installation is on
    its owner's account) and the access's permissions."""
    body: dict[str, Any] = {"permissions": access.as_permissions()}
    if access.per_repository:
        if not repo_full_name or "/" not in repo_full_name:
            raise ValueError(f"a {access.name} token needs a repository, got {repo_full_name!r}")
        body["repositories"] = [repo_full_name.split("/", 1)[1]]
    return body
