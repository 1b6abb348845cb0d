"""What every roster model shares: strict types, no unknown keys, problems named by key."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Strict, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

# Where a problem is (the keys down to it) and what it is.
Problems = list[tuple[tuple[str | int, ...], str]]


class RosterModel(BaseModel):
    # Unknown keys are errors so a typo never silently falls back to a default, and types are
    # strict so `votes = "no"` or `max_turns = "40"` is an error rather than a guess.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, strict=True)


# TOML arrays arrive as lists; strict mode would take only tuples.
Strings = Annotated[tuple[str, ...], Strict(False)]


def problems_error(model: str, problems: Problems) -> ValidationError:
    """Cross-field problems as one ValidationError whose locations name the offending keys."""
    return ValidationError.from_exception_data(
        model,
        [
            InitErrorDetails(type=PydanticCustomError("crew", message), loc=loc, input=None)
            for loc, message in problems
        ],
    )
