"""Prices per million tokens, and what one call's usage costs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.llm.client import ModelUsage
from bot.llm.pricing import DEFAULT_PRICES, Price, UnknownModelPrice, cost_usd, price_for


def test_the_default_prices_follow_the_list():
    assert DEFAULT_PRICES["claude-sonnet-4-5"] == Price(
        input=3.0, output=15.0, cache_write=3.75, cache_read=0.3
    )
    assert DEFAULT_PRICES["claude-opus-4-5"] == Price(5.0, 25.0, 6.25, 0.5)
    assert DEFAULT_PRICES["claude-haiku-4-5"] == Price(1.0, 5.0, 1.25, 0.1)


def test_the_cost_of_a_known_usage():
    usage = ModelUsage(
        input_tokens=1_200,
        output_tokens=850,
        cache_creation_input_tokens=4_000,
        cache_read_input_tokens=20_000,
    )
    # By hand, at Sonnet's rates: 1,200 x 3 + 850 x 15 + 4,000 x 3.75 + 20,000 x 0.30
    # = 3,600 + 12,750 + 15,000 + 6,000 = 37,350 USD per million tokens = 0.03735 USD.
    assert cost_usd(usage, DEFAULT_PRICES["claude-sonnet-4-5"]) == Decimal("0.037350")


def test_a_cost_is_rounded_to_a_millionth_of_a_dollar():
    one_token = ModelUsage(input_tokens=0, output_tokens=0, cache_read_input_tokens=1)
    assert cost_usd(one_token, DEFAULT_PRICES["claude-haiku-4-5"]) == Decimal("0.000000")
    five = ModelUsage(input_tokens=0, output_tokens=0, cache_read_input_tokens=5)
    assert cost_usd(five, DEFAULT_PRICES["claude-sonnet-4-5"]) == Decimal("0.000002")  # 1.5e-6


def test_a_dated_model_id_has_its_alias_price():
    assert price_for("claude-sonnet-4-5-20250929") is DEFAULT_PRICES["claude-sonnet-4-5"]
    assert price_for("claude-haiku-4-5") is DEFAULT_PRICES["claude-haiku-4-5"]


def test_an_unknown_model_is_a_clear_error():
    with pytest.raises(UnknownModelPrice) as caught:
        price_for("claude-sonnet-4-5-latest-preview")
    assert isinstance(caught.value, KeyError)
    assert str(caught.value) == (
        "no price for model 'claude-sonnet-4-5-latest-preview' "
        "(priced models: claude-haiku-4-5, claude-opus-4-5, claude-sonnet-4-5)"
    )


def test_a_prefix_alone_is_not_a_match():
    prices = {"claude-sonnet-4": Price.list_price(3.0, 15.0)}
    with pytest.raises(UnknownModelPrice):
        price_for("claude-sonnet-4-5", prices)
    assert price_for("claude-sonnet-4-20250514", prices) is prices["claude-sonnet-4"]
