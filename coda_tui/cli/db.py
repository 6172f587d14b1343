"""coda db: the conversation database itself."""

from __future__ import annotations

import click

from coda_tui import paths
from coda_tui.cli.common import common_options, runtime
from coda_tui.textsafe import inert


@click.group()
def db() -> None:
    """The conversation database: recover a damaged one."""


@db.command("recover")
@common_options
@click.pass_context
def db_recover(ctx) -> None:
    """Copy what can still be read from a damaged coda.db into a new one; the old one is kept."""
    from coda_tui.store.recover import recover

    runtime(ctx)
    done = recover(paths.database_path())
    counts = ", ".join(f"{n} {table}" for table, n in done.rows.items())
    click.echo(f"recovered {counts} into {inert(str(done.path))} ({done.method}); "
               f"the damaged file is kept as {inert(str(done.kept))}")
