"""Cost on every turn, end to end: the llm stage records tokens and cost, `coda ask --json`
and `coda trace` carry it. A loopback server poses as a priced model (gpt-4o-mini); the
embedded model is local; an unpriced name on a public server is unknown."""

from __future__ import annotations

import asyncio
import json

import genai_prices
import pytest

from coda_tui.core.runtime import Runtime
from coda_tui.providers import pricing
from tests.conftest import run_coda, write_config
from tests.servers import Action, OpenAIServer


def config_for(tmp_path, url: str, model: str, extra: str = ""):
    return write_config(tmp_path, f'[general]\nprovider = "srv"\n[providers.srv]\ntype = "openai"\n'
                                  f'base_url = "{url}/v1"\nmodel = "{model}"\nmax_retries = 0\n{extra}')


def listed_usd(model: str, tokens_in: int, tokens_out: int) -> float:
    usage = genai_prices.Usage(input_tokens=tokens_in, output_tokens=tokens_out)
    return float(genai_prices.calc_price(usage, model, provider_id="openai").total_price)


def llm_cost(trace: dict) -> dict:
    (llm,) = [s for s in trace["stages"] if s["name"] == "llm"]
    return llm["detail"]["cost"]


def test_a_priced_model_costs_what_the_list_says_in_ask_json_and_trace(tmp_path):
    with OpenAIServer([Action(chunks=["Hi", "!"], usage=(120_000, 4_000))]) as srv:
        path = config_for(tmp_path, srv.url, "gpt-4o-mini")
        out = run_coda("--config", str(path), "ask", "--json", "hello")
        assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    expected = listed_usd("gpt-4o-mini", 120_000, 4_000)
    assert expected > 0
    cost = llm_cost(data["trace"])
    assert cost["basis"] == "priced" and cost["usd"] == pytest.approx(expected)
    assert (cost["input_tokens"], cost["output_tokens"], cost["estimated"]) == (120_000, 4_000, False)
    assert data["cost"]["usd"] == pytest.approx(expected) and data["cost"]["calls"]["priced"] == 1
    # The llm stage's summary says it, and so do both forms of `coda trace`.
    shown = pricing.format_usd(expected)
    listing = run_coda("--config", str(path), "trace")
    assert shown in listing.stdout.splitlines()[1]
    one = run_coda("--config", str(path), "trace", str(data["trace"]["id"]))
    assert f"· {shown}" in one.stdout.splitlines()[0] and f"; {shown}" in one.stdout
    again = json.loads(run_coda("--config", str(path), "trace", "--json").stdout)
    assert again[0]["cost"]["usd"] == pytest.approx(expected) and llm_cost(again[0]) == cost


def test_an_unpriced_name_on_a_public_server_is_unknown(tmp_path, monkeypatch):
    # The server is on loopback, which would make it self-hosted: it is taken for a public
    # one here (is_private_address itself is tested in tests/providers/test_pricing.py).
    monkeypatch.setattr(pricing, "is_private_address", lambda address: False)
    with OpenAIServer([Action(usage=(300, 20))]) as srv:
        rt = Runtime(config_for(tmp_path, srv.url, "house-model-7b"), project=tmp_path)

        async def go():
            try:
                return await rt.turns.run("hello")
            finally:
                await rt.aclose()

        result = asyncio.run(go())
    (llm,) = [s for s in result.trace.stages if s.name == "llm"]
    cost = llm.detail["cost"]
    assert cost["usd"] is None and cost["basis"] == "unknown" and llm.summary.endswith("; cost unknown")
    assert (cost["input_tokens"], cost["output_tokens"]) == (300, 20)
    stored = rt.store.traces.llm_costs(result.session.id)
    assert stored == [cost] and pricing.CostTotal.of(stored).to_dict()["usd"] is None


def test_a_self_hosted_unpriced_model_is_local(tmp_path):
    with OpenAIServer([Action(usage=(300, 20))]) as srv:
        out = run_coda("--config", str(config_for(tmp_path, srv.url, "qwen2.5-coder-7b")), "ask", "--json", "hello")
    data = json.loads(out.stdout)
    assert llm_cost(data["trace"])["basis"] == "local" and data["cost"]["usd"] == 0


@pytest.mark.slow
def test_the_embedded_model_is_local_and_free():
    out = run_coda("ask", "--json", "Say hi")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    # Every model round (a tool round first, with no configuration) is local and free.
    costs = [s["detail"]["cost"] for s in data["trace"]["stages"] if s["name"] == "llm"]
    assert all((c["usd"], c["basis"]) == (0.0, "local") for c in costs) and costs[-1]["output_tokens"] > 0
    assert data["cost"] == {"usd": 0.0, "priced_usd": 0.0, "calls": {"priced": 0, "local": len(costs), "unknown": 0}}
