"""The embedded model's time to its first tool call (issue 13), per tool_choice.

SmolLM2-135M in-process, the done-when question ("which function parses the command line
arguments? read it and tell me") with read_file / search_code / list_files offered: for
each tool_choice, --rounds runs alternating, the time from asking to the first whole
ToolCall (model loaded beforehand, as a running app has it; the prompt read afresh each
time, as a new question's is), and which tool was called.
"plan" is what the provider picks for a turn's first round with no configuration
(LlamaCppProvider.tool_choice_for(0, …): search_code, with the question as its query and
no model run); "required" and "auto" are the model writing a call under the grammar, as
the plan did before. Then the second round of the plan
("none": answer from a search result), time to its first text, right after a first round
(whose prompt llama.cpp still holds, as in a turn).

  python benchmarks/embedded_tool_call.py --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter

from common import ROOT, median, report

from coda_tui.config import ProviderConfig
from coda_tui.core.tool_loop import result_cap
from coda_tui.providers.base import ChatMessage, ToolCall
from coda_tui.providers.registry import make_provider
from coda_tui.tokens import estimate_tokens

QUESTION = "which function parses the command line arguments? read it and tell me"
TOOLS = [
    {"type": "function", "function": {
        "name": "read_file", "description": "Read a text file of the project, optionally a range of lines.",
        "parameters": {"type": "object", "properties": {"path": {"type": "string"}, "start": {"type": "integer"},
                                                        "end": {"type": "integer"}}, "required": ["path"]}}},
    {"type": "function", "function": {
        "name": "search_code", "description": "Search the project's code for functions, classes and text.",
        "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}}},
    {"type": "function", "function": {
        "name": "list_files", "description": "List the project's files matching a glob pattern.",
        "parameters": {"type": "object", "properties": {"pattern": {"type": "string"}}}}},
]
FOUND = "cli.py:41 def parse_args(argv: list[str] | None = None) -> argparse.Namespace:"


async def first_item(prov, messages, choice: str, fresh: bool = True) -> tuple[float | None, object]:
    if fresh:
        # As for a new question: nothing of this prompt is in llama.cpp's context yet (it
        # reuses the longest common prefix, which would hide reading the prompt).
        prov._llm.reset()
    t0 = time.perf_counter()
    first = None
    async for item in prov.stream(messages, tools=TOOLS, tool_choice=choice, max_tokens=128):
        if first is None and isinstance(item, (str, ToolCall)):
            first = (time.perf_counter() - t0, item)
    return first or (None, None)


async def main(rounds: int) -> None:
    prov = make_provider(ProviderConfig(name="local", type="llama_cpp"))
    await prov.load()
    names = [t["function"]["name"] for t in TOOLS]
    plan = prov.tool_choice_for(0, names)
    ask = [ChatMessage("user", QUESTION)]
    await first_item(prov, ask, "auto")  # warm: the first grammar and prompt pay once
    choices = {"plan": plan, "required": "required", "auto": "auto"}
    times: dict[str, list[float]] = {k: [] for k in choices}
    called: dict[str, Counter] = {k: Counter() for k in choices}
    for _ in range(rounds):
        for label, choice in choices.items():
            seconds, item = await first_item(prov, ask, choice)
            if isinstance(item, ToolCall):
                times[label].append(seconds)
                called[label][item.name] += 1
            else:
                called[label]["(text)"] += 1
    for label, choice in choices.items():
        note = f"tool_choice={choice}; calls: " + ", ".join(f"{n} {c}/{rounds}" for n, c in called[label].items())
        if times[label]:
            report(f"embedded first tool call, {label}", median(times[label]) * 1000, "ms", "a call happens", note,
                   met=len(times[label]) == rounds)
        else:
            report(f"embedded first tool call, {label}", 0.0, "ms", "a call happens", note, met=False)
    call = ToolCall("call_0", "search_code", '{"query": "command line arguments"}')
    answer = [*ask, ChatMessage("assistant", "", tool_calls=(call,)),
              ChatMessage("tool", FOUND, tool_call_id="call_0", name="search_code")]
    second = prov.tool_choice_for(1, names)
    firsts = []
    for _ in range(rounds):
        await first_item(prov, ask, plan)  # the first round, as in a turn: its prompt is the prefix
        firsts.append((await first_item(prov, answer, second, fresh=False))[0])
    got = [s for s in firsts if s is not None]
    report("embedded answer after a tool result", median(got) * 1000 if got else 0.0, "ms", "text arrives",
           f"tool_choice={second}", met=len(got) == rounds)
    # The same with a search result as long as a turn lets one be: cut to an eighth of the
    # window's room (core.tool_loop.result_cap), and, beside it, to the quarter it used to be.
    room = prov.context_window - prov.config.max_tokens - estimate_tokens(json.dumps(TOOLS))
    code = (ROOT / "coda_tui" / "core" / "tool_loop.py").read_text()
    sized = {"an eighth": result_cap(10**6, room), "a quarter (before)": 2 * result_cap(10**6, room)}
    waits: dict[str, list[float]] = {k: [] for k in sized}
    for _ in range(max(2, rounds // 2)):
        for label, chars in sized.items():
            found = [*answer[:2], ChatMessage("tool", code[:chars], tool_call_id="call_0", name="search_code")]
            await first_item(prov, ask, plan)
            seconds = (await first_item(prov, found, second, fresh=False))[0]
            if seconds is not None:
                waits[label].append(seconds * 1000)
    for label, chars in sized.items():
        report(f"embedded answer after a {chars:,}-char result", median(waits[label]) if waits[label] else 0.0, "ms",
               "-", f"{label} of the room", baseline=median(waits["a quarter (before)"]) or None,
               baseline_name="a quarter")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(parser.parse_args().rounds))
