"""`coda tools list|stats` (what the model may call, with its consent rule, and how the
calls went) and `coda undo` (take back the last turn's edits)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

import click

from coda_tui.cli.common import common_options, print_json, runtime
from coda_tui.textsafe import inert

_SPAN = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _since(ctx, param, value: str | None) -> str | None:
    """'7d' -> the ISO time 7 days ago (as traces store started_at); None: all time."""
    if value is None or value.strip() in ("", "all"):
        return None
    m = _SPAN.match(value)
    if m is None:
        raise click.BadParameter(f"'{value}' is not a span like 30m, 12h, 7d or 2w (or 'all')", ctx, param)
    try:
        start = dt.datetime.now(dt.UTC) - dt.timedelta(**{_UNITS[m[2]]: int(m[1])})
    except OverflowError:
        return None  # further back than any trace
    return start.isoformat(timespec="milliseconds")


# `--since 7d`: only turns this recent (tools stats, stats).
since_option = click.option("--since", default="all", callback=_since, show_default=True,
                            help="Only turns this recent: 30m, 12h, 7d, 2w, or all.")


@click.group()
def tools() -> None:
    """The tools the model may call, and how their calls went."""


@tools.command("list")
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def list_tools(ctx, as_json: bool) -> None:
    """Built-in, MCP and plugin tools, each with its consent rule."""
    from coda_tui.tools.policy import Policy
    from coda_tui.tools.setup import make_registry

    rt = runtime(ctx)
    registry = make_registry(rt.config, rt.project.root)

    async def load() -> None:
        try:
            await registry.ready()
        finally:
            await registry.aclose()

    asyncio.run(load())
    policy = Policy(rt.config.tools)
    rows = [{"name": s.name, "source": s.source, "read_only": s.read_only, "rule": policy.rule(s),
             "description": s.description} for s in registry.specs()]
    if as_json:
        print_json({"enabled": rt.config.tools.enabled, "tools": rows, "problems": registry.problems})
        return
    if not rt.config.tools.enabled:
        click.echo("tools are off ([tools] enabled = false): the model is offered none of these")
    name_w = max(len("tool"), *(len(inert(r["name"])) for r in rows))
    src_w = max(len("source"), *(len(inert(r["source"])) for r in rows))
    click.echo(f"{'tool':<{name_w}}  {'source':<{src_w}}  {'kind':<9}  {'rule':<5}  description")
    for r in rows:
        kind = "read-only" if r["read_only"] else "changes"
        click.echo(f"{inert(r['name']):<{name_w}}  {inert(r['source']):<{src_w}}  {kind:<9}  {r['rule']:<5}"
                   f"  {inert(r['description'])}")
    for problem in registry.problems:
        click.echo(f"coda: {inert(problem)}", err=True)


@tools.command("stats")
@since_option
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def stats(ctx, since: str | None, as_json: bool) -> None:
    """Calls, failures, median and 95th-percentile time per tool, from the stored traces."""
    from coda_tui.tools.stats import tool_stats

    rt = runtime(ctx)
    found = tool_stats(rt.store.traces.tool_calls(since))
    if as_json:
        print_json([s.__dict__ for s in found])
        return
    if not found:
        click.echo("no tool calls recorded" + (" in that span" if since else ""))
        return

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:,.1f}"

    name_w = max(len("tool"), *(len(inert(s.tool)) for s in found))
    click.echo(f"{'tool':<{name_w}}  {'calls':>6}  {'failed':>6}  {'denied':>6}  {'median ms':>10}  {'p95 ms':>10}")
    for s in found:
        click.echo(f"{inert(s.tool):<{name_w}}  {s.calls:>6}  {s.failures:>6}  {s.denied:>6}  {ms(s.median_ms):>10}"
                   f"  {ms(s.p95_ms):>10}")


@click.command()
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def undo(ctx, as_json: bool) -> None:
    """Restore the files the last turn's tools changed (and delete those it created)."""
    from coda_tui.tools.undo import UndoError, undo_last

    rt = runtime(ctx)
    try:
        done = undo_last(rt.project)
    except UndoError as exc:
        if as_json:
            print_json({"undone": False, "error": exc.message})
            ctx.exit(exc.exit_code)
        raise
    if as_json:
        print_json({"undone": True, "turn": done.turn, "restored": done.restored, "deleted": done.deleted})
    else:
        click.echo(f"undone: {inert(done.summary())}")
