"""The cost of a model call: genai-prices for priced models, the user's price_in/price_out,
0 for local and self-hosted ones, unknown (never 0) for an unpriced name."""

from __future__ import annotations

import subprocess
import sys

import genai_prices
import pytest

from coda_tui import config
from coda_tui.config import ConfigError, ProviderConfig
from coda_tui.providers.base import Usage
from coda_tui.providers.pricing import (
    CostTotal,
    format_usd,
    is_private_address,
    turn_cost,
)
from tests.conftest import write_config


def per_million(model: str, vendor: str) -> tuple[float, float]:
    """The list's own price per million tokens in and out (for a model without tiers), to
    check our arithmetic against."""
    def price(tokens_in: int, tokens_out: int) -> float:
        usage = genai_prices.Usage(input_tokens=tokens_in, output_tokens=tokens_out)
        return float(genai_prices.calc_price(usage, model, provider_id=vendor).total_price)

    return price(1_000_000, 0), price(0, 1_000_000)


def pc(type_: str, **kw) -> ProviderConfig:
    return ProviderConfig(name=kw.pop("name", "p"), type=type_, **kw)


def test_a_vendor_model_is_priced_from_the_list_even_behind_a_loopback_proxy():
    usage = Usage(120_000, 4_000)
    p_in, p_out = per_million("gpt-4o-mini", "openai")
    assert p_in > 0 and p_out > 0
    for where in ("https://api.openai.com/v1", "http://127.0.0.1:8080/v1"):
        cost = turn_cost(pc("openai", base_url=where), "gpt-4o-mini", usage)
        assert cost.basis == "priced" and cost.source == "genai-prices openai/gpt-4o-mini"
        assert cost.usd == pytest.approx((120_000 * p_in + 4_000 * p_out) / 1e6)
        assert (cost.input_tokens, cost.output_tokens) == (120_000, 4_000)
    # Claude's prices have tiers by prompt size: the list's own sum for this usage.
    listed = genai_prices.calc_price(genai_prices.Usage(input_tokens=1000, output_tokens=100), "claude-haiku-5-5",
                                     provider_id="anthropic").total_price
    cost = turn_cost(pc("anthropic"), "claude-haiku-5-5", Usage(1000, 100))
    assert cost.basis == "priced" and cost.usd == pytest.approx(float(listed)) and cost.usd > 0


def test_local_and_self_hosted_models_cost_nothing():
    usage = Usage(500, 50)
    assert turn_cost(pc("llama_cpp"), "SmolLM2-135M-Instruct", usage).basis == "local"
    for p in (pc("ollama"), pc("ollama", host="http://192.168.1.20:11434"),
              pc("openai", base_url="http://localhost:1234/v1"), pc("openai", base_url="http://10.0.0.5:8000/v1")):
        cost = turn_cost(p, "qwen2.5-coder:1.5b", usage)
        assert (cost.usd, cost.basis, cost.label()) == (0.0, "local", "local, $0")


def test_an_unpriced_model_at_a_public_address_is_unknown_not_free():
    cost = turn_cost(pc("openai", name="odd", base_url="https://llm.example.com/v1"), "house-model-7b", Usage(500, 50))
    assert cost.usd is None and cost.basis == "unknown" and cost.label() == "cost unknown"
    assert "price_in/price_out in [providers.odd]" in cost.source
    total = CostTotal.of([cost.to_dict(), turn_cost(pc("llama_cpp"), "x", Usage(1, 1)).to_dict()])
    assert total.label() == "cost unknown" and total.to_dict()["usd"] is None


def test_the_users_prices_win():
    cost = turn_cost(pc("openai", price_in=3.0, price_out=15.0), "gpt-4o-mini", Usage(2_000_000, 100_000))
    assert cost.basis == "config" and cost.usd == pytest.approx(6.0 + 1.5)
    free = turn_cost(pc("openai", base_url="https://llm.example.com/v1", price_in=0, price_out=0), "house", Usage(9, 9))
    assert (free.usd, free.basis) == (0.0, "config")


def test_a_call_that_failed_before_answering_and_a_cached_answer_cost_nothing():
    failed = turn_cost(pc("openai"), "gpt-4o-mini", Usage(800, 0, estimated=True))
    assert failed.usd == 0.0 and failed.input_tokens == 0
    cached = turn_cost(pc("openai"), "gpt-4o-mini", Usage(800, 90), cached=True)
    assert (cached.usd, cached.label()) == (0.0, "cached, $0")
    estimated = turn_cost(pc("openai"), "gpt-4o-mini", Usage(800, 90, estimated=True))
    assert estimated.estimated and estimated.label().startswith("~$")


def test_totals_keep_unknown_apart_and_format_fractions_of_a_cent():
    priced = {"usd": 0.0123, "basis": "priced"}
    total = CostTotal.of([priced, priced, {"usd": None, "basis": "unknown"}, {"usd": 0.0, "basis": "local"}])
    assert total.label() == "$0.0246 + 1 unknown"
    assert total.to_dict() == {"usd": None, "priced_usd": 0.0246, "calls": {"priced": 2, "local": 1, "unknown": 1}}
    assert CostTotal.of([]).label() == "" and CostTotal.of([]).to_dict()["usd"] is None
    assert [format_usd(v) for v in (0, 0.0000042, 0.00042, 0.0123, 1234.5)] == ["$0", "$0.000004", "$0.0004", "$0.0123", "$1,234.50"]


def test_private_addresses_are_told_from_the_text_alone():
    assert all(is_private_address(a) for a in ("http://127.0.0.1:8080", "http://localhost:11434", "http://[::1]:80",
                                                 "http://172.16.3.4/v1", "http://gpu.local:8000", "192.168.0.2:11434"))
    assert not any(is_private_address(a) for a in ("https://api.openai.com/v1", "https://8.8.8.8", "http://[bad"))


def test_the_price_list_is_not_imported_at_start_up_or_for_a_local_model():
    code = ("import sys; from coda_tui.cli import main; from coda_tui.core import turn; from coda_tui.providers import pricing;"
            "from coda_tui.config import ProviderConfig; from coda_tui.providers.base import Usage;"
            "pricing.turn_cost(ProviderConfig('local', 'llama_cpp'), 'm', Usage(1, 1));"
            "pricing.turn_cost(ProviderConfig('o', 'ollama'), 'llama3.2', Usage(1, 1));"
            "print('genai_prices' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_prices_in_the_config_are_checked_like_any_number(tmp_path):
    path = write_config(tmp_path, '[providers.x]\ntype = "openai"\nprice_in = -1\n')
    with pytest.raises(ConfigError) as info:
        config.load(path, env={})
    assert info.value.key == "providers.x.price_in" and info.value.line == 3
    path = write_config(tmp_path, '[providers.x]\ntype = "openai"\nprice_in = 0.15\nprice_out = 0.6\n')
    x = config.load(path, env={}).providers["x"]
    assert (x.price_in, x.price_out) == (0.15, 0.6)
