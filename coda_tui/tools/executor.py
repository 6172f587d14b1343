"""Running one tool call: find the tool, check its arguments, apply the consent rules, ask
when needed, run it, time it, cap what it returns. Every outcome is a ToolResult the model
can read — an unknown tool, bad JSON, a refusal or a crash inside the tool included — so no
call ever ends the turn. Only cancellation goes up (the loop marks the call cancelled).
"""

from __future__ import annotations

import logging
import time

from coda_tui.providers.base import ToolCall
from coda_tui.tools.base import (
    Consent,
    ConsentRequest,
    ToolContext,
    ToolError,
    ToolOutput,
    ToolResult,
    parse_arguments,
)
from coda_tui.tools.policy import Policy
from coda_tui.tools.registry import ToolRegistry

log = logging.getLogger(__name__)

NO_TERMINAL = "not run: nobody could be asked for consent (no terminal); pass --yes, or allow it in [tools] allow"


def cap(text: str, limit: int) -> str:
    """At most `limit` characters, saying how much was left out (the model should know)."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… [{len(text) - limit:,} more characters not shown]"


async def run_call(
    call: ToolCall,
    registry: ToolRegistry,
    policy: Policy,
    ctx: ToolContext,
    consent: Consent | None,
) -> ToolResult:
    t0 = time.perf_counter()

    def done(status, content: str, changed=()) -> ToolResult:
        return ToolResult(call, status, cap(content, ctx.output_chars), (time.perf_counter() - t0) * 1000,
                          list(changed))

    tool = registry.get(call.name)
    if tool is None:
        known = ", ".join(s.name for s in registry.specs())
        return done("error", f"unknown tool '{call.name}'; the tools are: {known}")
    try:
        args = parse_arguments(call, tool.spec)
    except ToolError as exc:
        return done("error", exc.message)
    decision = policy.decide(tool.spec)
    if decision == "deny":
        return done("denied", f"{call.name} is refused by the configuration ([tools] deny)")
    if decision == "ask":
        try:
            preview = await tool.preview(args, ctx)
        except ToolError as exc:
            return done("error", exc.message)
        if consent is None:
            return done("denied", NO_TERMINAL)
        answer = await consent(ConsentRequest(call, tool.spec, preview))
        if answer == "no":
            return done("denied", f"the user declined: {preview.title}")
        if answer == "always":
            policy.always(tool.spec.name)
        # The time spent waiting for the user is not the tool's.
        t0 = time.perf_counter()
    try:
        out = await tool.call(args, ctx)
    except ToolError as exc:
        return done("error", exc.message)
    except Exception as exc:  # noqa: BLE001 - a tool's bug is the model's error line, not a crash
        log.exception("tool %s failed", call.name)
        return done("error", f"{call.name} failed: {type(exc).__name__}: {exc}")
    if isinstance(out, ToolOutput):
        return done("ok", out.text, out.changed)
    return done("ok", str(out))
