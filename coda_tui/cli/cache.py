"""`coda cache stats|clear`: the response cache."""

from __future__ import annotations

from dataclasses import asdict

import click

from coda_tui.cli.common import common_options, print_json, runtime
from coda_tui.textsafe import inert


@click.group()
def cache() -> None:
    """The response cache ([cache] enabled): its counters, or forget every answer."""


def _response_cache():
    from coda_tui import paths
    from coda_tui.core.cache import ResponseCache

    # Opened even when the cache is off: answers stored while it was on can still be counted or cleared.
    return ResponseCache(paths.response_cache_path())


@cache.command("stats")
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def cache_stats(ctx, as_json: bool) -> None:
    """Answers stored, hits, misses and the time hits saved."""
    enabled = runtime(ctx).config.cache.enabled
    c = _response_cache()
    try:
        stats = c.stats()
    finally:
        c.close()
    if as_json:
        print_json({"enabled": enabled, **asdict(stats)})
        return
    click.echo(
        f"response cache {'on' if enabled else 'off ([cache] enabled = false)'}: {stats.entries} answer(s) in {inert(str(stats.path))}\n"
        f"{stats.hits} hit(s), {stats.misses} miss(es), saved {stats.saved_ms / 1000:,.1f} s"
    )


@cache.command("clear")
@common_options
@click.pass_context
def cache_clear(ctx) -> None:
    """Forget every cached answer (the conversations keep theirs)."""
    runtime(ctx)
    c = _response_cache()
    try:
        gone = c.clear()
    finally:
        c.close()
    click.echo(f"{gone} cached answer(s) removed")
