"""What coda adds to an MCP tool call: one stdio call to a real server (the tests' demo
server, written with the mcp SDK, its `echo` tool) through coda — the registry finds the
tool, the executor parses the arguments, applies the consent rules, checks path arguments
against the sandbox, times and caps the result, McpSource calls the server — against the
same server called with the bare SDK client (`mcp.Client.call_tool`). Two servers run side
by side, one for each path; calls alternate, medians compared. Target: ≤ 1.2×.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, median, report

SERVER = ROOT / "tests" / "tools" / "mcp_demo_server.py"
ROUNDS = 400
WARMUP = 20


async def measure(project_root: Path, devnull) -> tuple[list[float], list[float]]:
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    from coda_tui.config import McpServerConfig, ToolsConfig
    from coda_tui.context.project import Project
    from coda_tui.providers.base import ToolCall
    from coda_tui.tools.base import ToolContext
    from coda_tui.tools.executor import run_call
    from coda_tui.tools.mcp import McpSource
    from coda_tui.tools.policy import Policy
    from coda_tui.tools.registry import ToolRegistry

    text = "the quick brown fox jumps over the lazy dog " * 4
    registry = ToolRegistry(sources=[McpSource(McpServerConfig(name="demo", command=sys.executable,
                                                               args=[str(SERVER)]), project_root)])
    await registry.ready()
    assert not registry.problems, registry.problems
    policy = Policy(ToolsConfig())
    ctx = ToolContext(project=Project(project_root))
    call = ToolCall(id="c1", name="demo__echo", arguments=json.dumps({"text": text}))

    async def through_coda() -> float:
        t0 = time.perf_counter()
        result = await run_call(call, registry, policy, ctx, None)
        elapsed = time.perf_counter() - t0
        assert result.status == "ok", result.content
        return elapsed * 1000

    params = StdioServerParameters(command=sys.executable, args=[str(SERVER)], cwd=project_root)
    # The server logs each request on stderr: to /dev/null for the bare client, the cheapest
    # place (coda reads its server's stderr to keep the last lines for the log).
    bare_ms, coda_ms = await alternate(Client(stdio_client(params, errlog=devnull), cache=None), through_coda, text)
    await registry.aclose()
    return bare_ms, coda_ms


async def alternate(bare_client, through_coda, text: str) -> tuple[list[float], list[float]]:
    bare_ms, coda_ms = [], []
    async with bare_client as client:
        await client.list_tools()

        async def bare() -> float:
            t0 = time.perf_counter()
            result = await client.call_tool("echo", {"text": text})
            elapsed = time.perf_counter() - t0
            assert not result.is_error
            return elapsed * 1000

        for _ in range(WARMUP):
            await bare()
            await through_coda()
        for i in range(ROUNDS):
            # Alternate which goes first, so neither always follows the other's wake-up.
            if i % 2:
                bare_ms.append(await bare())
                coda_ms.append(await through_coda())
            else:
                coda_ms.append(await through_coda())
                bare_ms.append(await bare())
    return bare_ms, coda_ms


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, open(os.devnull, "w") as devnull:
        bare, coda = asyncio.run(measure(Path(tmp), devnull))
    report("mcp stdio call, bare mcp client (median)", median(bare), "ms", "-", f"{ROUNDS} calls each, alternating")
    ratio = median(coda) / median(bare)
    report("mcp stdio call through coda (median)", median(coda), "ms", "<= 1.2x bare client",
           "registry, executor, McpSource", baseline=median(bare), baseline_name="bare", met=ratio <= 1.2)
    report("  time coda adds per call (difference of medians)", median(coda) - median(bare), "ms", "-")


if __name__ == "__main__":
    main()
