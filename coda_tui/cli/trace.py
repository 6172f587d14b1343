"""`coda trace`: recent turns and where their time went."""

from __future__ import annotations

import click

from coda_tui.cli.common import (
    EXIT_USAGE,
    MAX_ID,
    common_options,
    json_text,
    opt,
    print_json,
    runtime,
    session_or_fail,
)
from coda_tui.errors import CodaError


@click.command()
@click.argument("trace_id", required=False)
@click.option("--last", "limit", default=10, show_default=True, type=click.IntRange(0, 1_000_000),
              help="How many recent traces to list.")
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def trace(ctx, trace_id: str | None, limit: int, as_json: bool) -> None:
    """Recent turns and where their time went; with TRACE_ID, its stages."""
    from coda_tui.cli import tables

    rt = runtime(ctx)
    if trace_id is not None:
        # Anything but a plain number within SQLite's integers names no trace (`²`, 10**30).
        usable = trace_id.isascii() and trace_id.isdigit() and int(trace_id) <= MAX_ID
        t = rt.store.traces.get(int(trace_id)) if usable else None
        if t is None:
            raise CodaError(f"no trace {trace_id} (see 'coda trace')", exit_code=EXIT_USAGE)
        click.echo(json_text(with_cost(t)) if as_json else tables.stage_table(t))
        return
    session_ref = opt(ctx, "session")
    session_id = session_or_fail(rt, session_ref).id if session_ref else None
    traces = rt.store.traces.recent(limit, session_id=session_id)
    if as_json:
        print_json([with_cost(t) for t in traces])
    elif not traces:
        click.echo("no traces yet")
    else:
        click.echo(tables.traces_table(traces))


def with_cost(t) -> dict:
    """The trace as JSON, with what its model calls cost added up (each is in its llm stage)."""
    from coda_tui.providers.pricing import CostTotal, stage_costs

    return {**t.to_dict(), "cost": CostTotal.of(stage_costs(t.stages)).to_dict()}
