"""What the forge does when GitHub refuses a cached installation token: renew it, maybe retry."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import github

Method = TypeVar("Method", bound=Callable[..., Any])


class ForgetsTokens(Protocol):
    def forget_tokens(self) -> None: ...


def renews_refused_token(method: Method) -> Method:
    """On 401 Bad credentials drop the cached tokens and try once more with new ones.

    PyGithub renews a token by its expiry time only; GitHub may refuse one sooner (revoked,
    or our clock is late). A refused request changed nothing, so sending it again is safe.
    """
    return _on_refused_token(method, retry=True)


def forgets_refused_token(method: Method) -> Method:
    """For several writes in one call: drop the refused tokens, but leave the retry to the
    step (which finds what the first writes made) rather than repeat them here."""
    return _on_refused_token(method, retry=False)


def _on_refused_token(method: Method, *, retry: bool) -> Method:
    @functools.wraps(method)
    def call(self: ForgetsTokens, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except github.BadCredentialsException:
            self.forget_tokens()
            if not retry:
                raise
            return method(self, *args, **kwargs)

    return call  # type: ignore[return-value]
