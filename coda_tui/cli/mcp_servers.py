"""`coda mcp list`: each configured MCP server started for a look — its state, transport,
what went wrong, and its tools with the consent rule each would get."""

from __future__ import annotations

import asyncio
from dataclasses import asdict

import click

from coda_tui.cli.common import common_options, print_json, runtime
from coda_tui.textsafe import inert


@click.group("mcp")
def mcp() -> None:
    """MCP servers ([mcp.servers.NAME] in the config)."""


@mcp.command("list")
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def mcp_list(ctx, as_json: bool) -> None:
    """Start each enabled server, show its state and tools (exit 1 if one fails)."""
    from coda_tui.tools.mcp import probe
    from coda_tui.tools.policy import Policy

    rt = runtime(ctx)
    reports = asyncio.run(probe(rt.config.mcp, rt.project.root))
    policy = Policy(rt.config.tools)
    if as_json:
        print_json([{**asdict(r), "target": rt.redact(r.target), "problem": r.problem and rt.redact(r.problem),
                     "tools": [{**asdict(s), "rule": policy.rule(s)} for s in r.tools]} for r in reports])
    elif not reports:
        click.echo(f"no MCP servers configured; add a [mcp.servers.NAME] table to {inert(str(rt.config.path))}")
    else:
        for r in reports:
            _show(r, policy, rt.redact)
    if any(r.state == "failed" for r in reports):
        ctx.exit(1)


def _show(r, policy, redact) -> None:
    click.echo(f"{inert(r.name)}  {r.state}  {r.transport}  {inert(redact(r.target))}")
    for line in ([r.problem] if r.problem else []) + r.problems:
        click.echo(f"  {inert(redact(line))}")
    for s in r.tools:
        kind = "read-only" if s.read_only else "changes"
        click.echo(f"  {inert(s.name):<32} {kind:<9} {policy.rule(s):<5}  {inert(s.description[:70])}")
