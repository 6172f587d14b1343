"""`coda stats`: per provider/model figures from the stored traces and ratings (what
core.model_stats computes; the app's statistics screen shows the same table)."""

from __future__ import annotations

import click

from coda_tui.cli.common import common_options, print_json, runtime
from coda_tui.cli.tools import since_option
from coda_tui.textsafe import inert


def text_table(headings: list[str], rows: list[list[str]]) -> list[str]:
    """Columns padded to their widest cell; the first left-aligned, the rest right."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headings)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    return [line(headings), *(line(r) for r in rows)]


@click.command()
@since_option
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def stats(ctx, since: str | None, as_json: bool) -> None:
    """Answers, failures, first-token time, speed, tokens, cost and ratings per model."""
    from coda_tui.core.model_stats import COLUMNS, stats_of, table_rows

    rt = runtime(ctx)
    found = stats_of(rt.store, since)
    if as_json:
        print_json({"since": since, "models": [s.to_dict() for s in found]})
        return
    if not found:
        click.echo("no answers recorded" + (" in that span" if since else ""))
        return
    rows = [[inert(c) for c in r] for r in table_rows(found)]
    for text in text_table([h for h, _ in COLUMNS], rows):
        click.echo(text)
