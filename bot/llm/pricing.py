"""What a model call costs: list prices per million tokens, and the cost of one call's usage.

Prices belong in configuration; `DEFAULT_PRICES` is only the fallback when none is configured.
Money is a `Decimal` rounded to 6 places (a millionth of a dollar, the price of one Haiku
input token), so sums over many calls add up exactly and compare equal in tests.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.llm.client import ModelUsage

PER_TOKENS = Decimal(1_000_000)
USD_PLACES = Decimal("0.000001")
# Cache writes (5-minute ttl) cost 1.25 x input and cache reads 0.1 x input (Anthropic's list
# prices, late 2026; the 1-hour ttl's 2 x is not priced separately, as usage does not split it).
CACHE_WRITE_FACTOR = 1.25
CACHE_READ_FACTOR = 0.1
DATED_SUFFIX = re.compile(r"-\d{8}")  # claude-sonnet-4-5-20250929 is claude-sonnet-4-5


@dataclass(frozen=True)
class Price:
    """USD per million tokens of each kind."""

    input: float
    output: float
    cache_write: float
    cache_read: float

    @classmethod
    def list_price(cls, input: float, output: float) -> Price:
        """A price whose cache rates follow the usual factors of the input rate."""
        return cls(
            input=input,
            output=output,
            cache_write=round(input * CACHE_WRITE_FACTOR, 6),
            cache_read=round(input * CACHE_READ_FACTOR, 6),
        )


DEFAULT_PRICES: Mapping[str, Price] = MappingProxyType(
    {
        "claude-opus-4-5": Price.list_price(5.0, 25.0),
        "claude-sonnet-4-5": Price.list_price(3.0, 15.0),
        "claude-haiku-4-5": Price.list_price(1.0, 5.0),
    }
)


class UnknownModelPrice(KeyError):
    """No price for a model: the message names the model and the models that have one."""

    def __str__(self) -> str:
        return str(self.args[0])


def price_for(model: str, prices: Mapping[str, Price] = DEFAULT_PRICES) -> Price:
    """The price of `model`, or of the alias a dated id (`<alias>-YYYYMMDD`) belongs to."""
    if model in prices:
        return prices[model]
    for alias, price in prices.items():
        if model.startswith(alias) and DATED_SUFFIX.fullmatch(model[len(alias) :]):
            return price
    known = ", ".join(sorted(prices)) or "none"
    raise UnknownModelPrice(f"no price for model {model!r} (priced models: {known})")


def cost_usd(usage: ModelUsage, price: Price) -> Decimal:
    """The cost of one call's tokens, in USD, rounded half-up to 6 places."""
    total = (
        usage.input_tokens * _rate(price.input)
        + usage.output_tokens * _rate(price.output)
        + usage.cache_creation_input_tokens * _rate(price.cache_write)
        + usage.cache_read_input_tokens * _rate(price.cache_read)
    )
    return (total / PER_TOKENS).quantize(USD_PLACES, rounding=ROUND_HALF_UP)


def _rate(per_million: float) -> Decimal:
    # str() first: Decimal(0.3) would carry the float's binary error into the money.
    return Decimal(str(per_million))
