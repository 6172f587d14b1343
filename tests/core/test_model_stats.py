"""`coda stats` and `[roles] prefer` on a database of real turns: three providers behind
loopback servers (one posing as OpenAI's priced gpt-4o-mini, one an unpriced model taken
for a public server, one self-hosted so local), with failures and ratings. The expected
figures are worked out here from the raw trace rows and the price list, by their own
arithmetic, not through core.model_stats."""

from __future__ import annotations

import asyncio
import json
import math

import genai_prices
import pytest

from coda_tui.core.model_stats import stats_of
from coda_tui.core.runtime import Runtime
from coda_tui.providers import pricing
from tests.conftest import run_coda, write_config
from tests.servers import Action, OpenAIServer

ROLES = '[roles]\nenabled = true\ndefault = "coder"\nprefer = "{prefer}"\n[roles.coder]\nchain = ["a", "b", "c"]\n'


def config_text(a, b, c, extra: str = "") -> str:
    def table(name, srv, model):
        return (f'[providers.{name}]\ntype = "openai"\nbase_url = "{srv.url}/v1"\nmodel = "{model}"\n'
                f'max_retries = 0\n')

    return ('[general]\nprovider = "a"\n[context]\nsearch_hits = 0\n[tools]\nenabled = false\n'
            + table("a", a, "gpt-4o-mini") + table("b", b, "house-model-7b") + table("c", c, "qwen-local") + extra)


def listed_usd(tokens_in: int, tokens_out: int) -> float:
    usage = genai_prices.Usage(input_tokens=tokens_in, output_tokens=tokens_out)
    return float(genai_prices.calc_price(usage, "gpt-4o-mini", provider_id="openai").total_price)


@pytest.fixture
def servers(monkeypatch):
    ok = Action(chunks=["An ", "answer ", "here."], usage=(1000, 50))
    a_script = [ok, ok, Action(kind="status", status=400, body='{"error": {"message": "bad"}}'), ok]
    with OpenAIServer(a_script) as a, OpenAIServer([Action(chunks=["b says"], usage=(200, 30))]) as b, \
            OpenAIServer([Action(chunks=["c ", "says"], usage=(70, 9))]) as c:
        # b is taken for a public server (its model has no price: unknown); a and c stay on
        # loopback: a is priced as OpenAI's model, c is self-hosted, so local.
        monkeypatch.setattr(pricing, "is_private_address", lambda address: b.url not in address)
        yield a, b, c


def make_turns(tmp_path, a, b, c) -> Runtime:
    rt = Runtime(write_config(tmp_path, config_text(a, b, c)), project=tmp_path)

    async def go():
        results = {}
        try:
            for provider, n in (("a", 4), ("b", 2), ("c", 3)):
                results[provider] = [await rt.turns.run(f"question {i} for {provider}", provider=provider)
                                     for i in range(n)]
        finally:
            await rt.aclose()
        return results

    results = asyncio.run(go())
    assert [r.status for r in results["a"]] == ["complete", "complete", "error", "complete"]
    rate = rt.store.sessions.rate
    rate(results["a"][0].message_id, 1)
    rate(results["a"][1].message_id, -1, "wrong")
    rate(results["b"][0].message_id, 1)
    return rt


def raw_rows(rt: Runtime) -> dict[str, list[dict]]:
    """The trace rows as stored, each with its answer's rating and llm stages' costs."""
    conn = rt.store.db.conn
    out: dict[str, list[dict]] = {}
    for tid, prov, status, ttft, tps, mid in conn.execute(
            "SELECT id, provider, status, ttft_ms, tokens_per_s, message_id FROM traces ORDER BY id"):
        rating = conn.execute("SELECT rating FROM messages WHERE id = ?", [mid]).fetchone()[0]
        costs = [json.loads(d)["cost"] for (d,) in conn.execute(
            "SELECT detail FROM trace_stages WHERE trace_id = ? AND name = 'llm'", [tid])]
        out.setdefault(prov, []).append({"status": status, "ttft": ttft, "tps": tps, "rating": rating, "costs": costs})
    return out


def by_hand_median(values: list[float]) -> float:
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def test_stats_match_the_rows_worked_out_by_hand(tmp_path, servers):
    rt = make_turns(tmp_path, *servers)
    rows = raw_rows(rt)
    found = {s.provider: s for s in stats_of(rt.store)}
    # Most answers first.
    assert [(s.provider, s.model) for s in found.values()] == [("a", "gpt-4o-mini"), ("c", "qwen-local"),
                                                               ("b", "house-model-7b")]
    a, b, c = found["a"], found["b"], found["c"]
    # Answers and failures: a has four turns, the third refused by the server.
    assert (a.answers, a.failed, a.failure_rate) == (4, 1, 0.25)
    assert (b.answers, b.failed, c.answers, c.failed) == (2, 0, 3, 0)
    # Timings: the error turn has no first token; three values, so the median is the middle
    # one and the 95th percentile (nearest rank: ceil(0.95 * 3) = 3rd) the largest.
    ttfts = sorted(r["ttft"] for r in rows["a"] if r["ttft"] is not None)
    assert len(ttfts) == 3
    assert (a.ttft_median_ms, a.ttft_p95_ms) == (ttfts[1], ttfts[2])
    c_ttfts = sorted(r["ttft"] for r in rows["c"])
    assert (c.ttft_median_ms, c.ttft_p95_ms) == (c_ttfts[1], c_ttfts[math.ceil(0.95 * 3) - 1])
    b_tps = [r["tps"] for r in rows["b"] if r["tps"] is not None]
    assert b.tps_median == (by_hand_median(b_tps) if b_tps else None)
    a_tps = [r["tps"] for r in rows["a"] if r["tps"] is not None]
    assert a.tps_median == (by_hand_median(a_tps) if a_tps else None)
    # Tokens as the servers reported them; the refused call was billed nothing.
    assert (a.tokens_in, a.tokens_out) == (3 * 1000, 3 * 50)
    assert (b.tokens_in, b.tokens_out, c.tokens_in, c.tokens_out) == (400, 60, 210, 27)
    # Cost: a's from the price list; b's price is unknown, so its total is unknown, never $0;
    # c runs on this machine.
    assert a.cost.to_dict()["usd"] == pytest.approx(3 * listed_usd(1000, 50))
    assert a.cost.label() == pricing.format_usd(3 * listed_usd(1000, 50))
    assert b.cost.to_dict()["usd"] is None and b.cost.label() == "cost unknown"
    assert c.cost.to_dict()["usd"] == 0 and c.cost.label() == "local, $0"
    # Ratings: a one up, one down; b one up of one; c none.
    assert (a.rated, a.rated_up, a.up_share) == (2, 1, 0.5)
    assert (b.rated, b.up_share, c.rated, c.up_share) == (1, 1.0, 0, None)
    assert sum(r["rating"] == 1 for r in rows["a"]) == a.rated_up

    # The command says the same, as a table and as JSON.
    cfg = str(tmp_path / "config.toml")
    out = run_coda("--config", cfg, "stats", "--json")
    assert out.returncode == 0, out.stderr
    data = {m["provider"]: m for m in json.loads(out.stdout)["models"]}
    assert data["a"]["answers"] == 4 and data["a"]["failure_rate"] == 0.25
    assert data["a"]["ttft_median_ms"] == pytest.approx(ttfts[1])
    assert data["b"]["cost"]["usd"] is None and data["b"]["cost"]["label"] == "cost unknown"
    assert data["c"]["cost"]["usd"] == 0 and data["b"]["up_share"] == 1.0
    table = run_coda("--config", cfg, "stats").stdout.splitlines()
    assert table[0].split()[:3] == ["provider:model", "answers", "failed"]
    line_a = next(line for line in table if line.startswith("a:gpt-4o-mini"))
    assert " 4 " in line_a and "25%" in line_a and "50% of 2" in line_a
    assert "cost unknown" in next(line for line in table if line.startswith("b:"))

    # --since leaves out older turns: b's turns moved a month back disappear from 7d.
    rt.store.db.conn.execute("UPDATE traces SET started_at = '2020-01-01T00:00:00.000+00:00' WHERE provider = 'b'")
    rt.store.db.conn.commit()
    recent = json.loads(run_coda("--config", cfg, "stats", "--since", "7d", "--json").stdout)["models"]
    assert sorted(m["provider"] for m in recent) == ["a", "c"]
    bad = run_coda("--config", cfg, "stats", "--since", "lately")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "30m, 12h, 7d" in bad.stderr


@pytest.mark.parametrize(("prefer", "order", "shown"), [
    ("rating", ["b", "a", "c"], "b 100% up of 1, a 50% up of 2, c no ratings"),
    ("cost", ["c", "a", "b"], "c local, $0, a "),
])
def test_roles_prefer_orders_the_chain_and_the_route_stage_says_why(tmp_path, servers, prefer, order, shown):
    rt = make_turns(tmp_path, *servers)
    path = write_config(tmp_path, config_text(*servers, ROLES.format(prefer=prefer)))
    rt = Runtime(path, project=tmp_path)

    async def go():
        try:
            return await rt.turns.run("which one answers?")
        finally:
            await rt.aclose()

    result = asyncio.run(go())
    route = next(s for s in result.trace.stages if s.name == "route")
    assert [t.split(":")[0] for t in route.detail["fallback_chain"]] == order
    assert route.detail["prefer"] == prefer and [o["target"] for o in route.detail["order"]] == order
    assert f"ordered by {prefer}: {shown}" in route.summary
    # The first of the ordered chain answered.
    assert result.trace.provider == order[0]
    if prefer == "cost":
        assert route.detail["order"][-1]["shown"] == "no known cost"


def test_an_unknown_preference_is_one_clear_line(tmp_path):
    path = write_config(tmp_path, '[roles]\nprefer = "vibes"\n')
    out = run_coda("--config", str(path), "stats")
    assert out.returncode == 2 and "Traceback" not in out.stderr and "prefer" in out.stderr


def test_speed_orders_by_median_first_token_and_unmeasured_targets_keep_their_place():
    from coda_tui.core.model_stats import ModelStat
    from coda_tui.core.roles import order_chain

    slow = ModelStat("slow", "m1", answers=3, ttft_median_ms=900.0)
    quick = ModelStat("quick", "m2", answers=2, ttft_median_ms=120.0)
    chain = [("new", None), ("slow", "m1"), ("unseen", "x"), ("quick", None)]
    ordered, order = order_chain(chain, "speed", [slow, quick], default_model=lambda p: {"quick": "m2"}.get(p, "d"))
    # quick's default model is the one measured; new and unseen have no timings.
    assert ordered == [("quick", None), ("slow", "m1"), ("new", None), ("unseen", "x")]
    assert [o["shown"] for o in order] == ["first token 120 ms median", "first token 900 ms median", "no timings",
                                           "no timings"]
    assert [o["value"] for o in order] == [120.0, 900.0, None, None]
