"""How the GitHub clients talk to GitHub: timeouts, retries, paging, waits (production defaults).

GitHub asks integrators to wait out secondary rate limits (403 or 429, usually with
`Retry-After`): every client retries 5xx, 429 and rate-limit 403s with PyGithub's `GithubRetry`.
"""

from __future__ import annotations

from dataclasses import dataclass

from github import GithubRetry

from bot.observability.calls import counting

# POST and PATCH are retried too (urllib3 leaves them out): a 403/429 rate limit means GitHub
# did nothing, and the crew's posts carry markers, so a rare duplicate after a 5xx is found.
RETRIED_METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"})


@dataclass(frozen=True)
class ClientOptions:
    """How clients talk to GitHub; the defaults suit production, tests shrink the waits."""

    timeout: int = 15  # seconds per request
    retries: int = 5
    backoff_factor: float = 1.0  # 5xx waits: 0, 2, 4, 8 s ... (urllib3's doubling)
    backoff_max: float = 60.0
    secondary_rate_wait: float = 60.0  # a rate-limit 403 without Retry-After waits this long
    # A primary rate limit resets within the hour; rather than sleep through a job's lease,
    # longer waits raise RateLimitExceededExceedsMaxWait and the job queue retries later.
    max_rate_limit_wait: float = 120.0
    seconds_between_writes: float | None = 1.0  # GitHub's advice for mutating requests
    per_page: int = 100  # GitHub's maximum, so long threads take few requests
    token_refresh_margin: float = 300.0  # renew installation tokens this long before expiry
    permission_ttl: float = 60.0  # how long a collaborator permission is trusted


def retry_policy(options: ClientOptions) -> GithubRetry:
    """Retry 5xx, 429 and rate-limit 403s; after the last try, GitHub's answer is raised."""
    return counting(GithubRetry)(  # counts responses and retries for /metrics
        total=options.retries,
        backoff_factor=options.backoff_factor,
        backoff_max=options.backoff_max,
        secondary_rate_wait=options.secondary_rate_wait,
        max_rate_limit_wait=options.max_rate_limit_wait,
        status_forcelist=[*range(500, 600), 429],  # GithubRetry adds 403 itself
        allowed_methods=RETRIED_METHODS,
        # the last failing response goes back to PyGithub, which raises GithubException
        raise_on_status=False,
    )
