"""Time coda adds per tool round-trip, beyond the model and the tool: from the moment a
model round that called a tool has ended to the moment the next round is asked, less the
tool's own time. That is the loop's work: the round's row stored with its calls, the tool
row written, the executor (lookup, argument check, consent policy), the tool stage and its
events, the result stored, the next prompt put together. The model is scripted (it answers
at once) and the tool echoes, so neither hides the loop. Target: ≤ 5 ms median."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time

from common import median, p95, report

from tests.core.tool_doubles import EchoTool, ScriptedModel, call, scripted_runtime

TURNS = 40
CALLS_PER_TURN = 5  # tool rounds in each turn, then the answer


class TimedModel(ScriptedModel):
    """Notes when each round was asked and when its stream ended."""

    def __init__(self, config, script) -> None:
        super().__init__(config, script)
        self.asked: list[float] = []
        self.ended: list[float] = []

    async def stream(self, messages, **kw):
        self.asked.append(time.perf_counter())
        async for item in super().stream(messages, **kw):
            yield item
        self.ended.append(time.perf_counter())


def script() -> list:
    rounds = [[call("echo", {"text": f"step {i}"}, f"c{i}")] for i in range(CALLS_PER_TURN)]
    return rounds + [["done"]]


async def measure(tmp: str) -> tuple[list[float], list[float]]:
    from pathlib import Path

    rt, _ = scripted_runtime(Path(tmp), [], [EchoTool()])
    gaps: list[float] = []
    tool_ms: list[float] = []
    for turn in range(TURNS + 3):
        model = TimedModel(rt.config.provider("srv"), script())
        rt.providers._made["srv"] = model
        result = await rt.turns.run(f"turn {turn}")
        if turn < 3:
            continue  # warm: imports, SQLite pages
        durations = [c.result.duration_ms for c in result.tool_calls]
        for i, spent in enumerate(durations):
            gap = (model.asked[i + 1] - model.ended[i]) * 1000
            gaps.append(gap - spent)
            tool_ms.append(spent)
    await rt.aclose()
    rt.close()
    return gaps, tool_ms


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CODA_DATA_DIR"] = os.path.join(tmp, "data")
        gaps, tool_ms = asyncio.run(measure(tmp))
    n = f"{len(gaps)} round-trips"
    report("tool round-trip: coda's own time (median)", median(gaps), "ms", "<= 5 ms", n, met=median(gaps) <= 5)
    report("tool round-trip: coda's own time (p95)", p95(gaps), "ms", "-")
    report("  the echo tool itself, in the executor (median)", median(tool_ms), "ms", "-")


if __name__ == "__main__":
    main()
