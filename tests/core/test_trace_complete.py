"""Issue 12 item 11: a trace leaves nothing out: every millisecond of a turn is in a stage,
the store stage says what it stored, what went into the context is shown by file and line
range, and a cancelled pipeline keeps its stage table."""

from __future__ import annotations

import asyncio
import time

import pytest

from coda_tui.cli import tables
from coda_tui.core.chain import ChainRunner
from coda_tui.core.spec import parse
from coda_tui.providers import registry
from tests.core.test_chain import runtime as chain_runtime
from tests.core.test_turn import run, runtime_for
from tests.servers import Action, OpenAIServer

CLIENT_IMPORT_S = 0.45


def test_client_import_is_inside_a_stage_and_the_store_stage_has_its_summary(tmp_path, monkeypatch):
    # The client import is made to take 450 ms on a clock that only the fake import moves
    # forward, so what no stage covers is exactly what the turn's own code spent between stages.
    real_perf = time.perf_counter
    skipped = [0.0]
    monkeypatch.setattr(time, "perf_counter", lambda: real_perf() + skipped[0])
    real_make = registry.make_provider

    def slow_make(pc):
        skipped[0] += CLIENT_IMPORT_S
        return real_make(pc)

    monkeypatch.setattr(registry, "make_provider", slow_make)
    with OpenAIServer([Action(chunks=["fine"])]) as srv:
        rt = runtime_for(tmp_path, srv.url)
        result = run(rt, "hello")
    stored = rt.store.traces.get(result.trace.id)
    in_stages = sum(s.duration_ms for s in stored.stages)
    assert stored.total_ms - in_stages < CLIENT_IMPORT_S * 1000 / 2
    llm = next(s for s in stored.stages if s.name == "llm")
    assert llm.detail["client_ms"] >= CLIENT_IMPORT_S * 1000 and "client import" in llm.summary
    # Consecutive stages meet: none starts after a gap the previous one left.
    for before, after in zip(stored.stages, stored.stages[1:]):
        assert after.start_ms <= before.start_ms + before.duration_ms + CLIENT_IMPORT_S * 1000 / 2
    store = stored.stages[-1]
    assert store.name == "store" and store.summary.startswith(f"answer #{result.message_id} (complete")


def test_trace_table_lists_the_files_and_line_ranges_that_went_in(tmp_path):
    src = tmp_path / "util.py"
    src.write_text("def add(a, b):\n    return a + b\n")
    with OpenAIServer([Action()]) as srv:
        rt = runtime_for(tmp_path, srv.url)
        result = run(rt, "explain this", attachments=[src])
    text = tables.stage_table(rt.store.traces.get(result.trace.id))
    assert "util.py:1-2 · attached · " in text


def test_pipeline_trace_columns_stay_aligned_with_long_step_names(tmp_path):
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    with OpenAIServer([Action(chunks=["Adds two numbers."]), Action(chunks=["- adds"])]) as srv:
        rt = chain_runtime(tmp_path, srv.url, proj)

        async def go():
            try:
                return await ChainRunner(rt.turns).run(parse("explain | analyze"), input_path=proj / "calc.py")
            finally:
                await rt.aclose()

        chain = asyncio.run(go())
    lines = tables.stage_table(rt.store.traces.get(chain.trace.id)).splitlines()
    header, rows = lines[1], lines[2:2 + len(chain.steps)]
    column = header.index("start ms") + len("start ms")
    assert all(row[column - 1].isdigit() for row in rows), "\n".join(lines)


def test_cancelled_pipeline_keeps_its_stage_table(tmp_path):
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    slow = Action(chunks=[f"w{i} " for i in range(200)], delay=0.05)
    with OpenAIServer([Action(chunks=["Adds two numbers."]), slow]) as srv:
        rt = chain_runtime(tmp_path, srv.url, proj)

        async def go():
            task = asyncio.create_task(ChainRunner(rt.turns).run(parse("explain | analyze | explain"), input_path=proj / "calc.py"))
            while len(srv.chat_requests()) < 2:
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await rt.aclose()

        asyncio.run(go())
    stored = rt.store.traces.recent(1)[0]
    assert stored.provider == "pipeline" and stored.status == "cancelled"
    assert [(s.name, s.detail["status"]) for s in stored.stages] == [
        ("1.explain", "complete"), ("2.analyze", "cancelled"), ("3.explain", "not run")]
    assert "2.analyze" in tables.stage_table(stored)
