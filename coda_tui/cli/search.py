"""`coda index` and `coda search`: the project's code index."""

from __future__ import annotations

import asyncio
import sys

import click

from coda_tui.cli.common import common_options, index_notices, print_json, runtime
from coda_tui.errors import CodaError
from coda_tui.textsafe import inert


@click.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def index(ctx, directory: str | None, as_json: bool) -> None:
    """Index the project's code for search (incremental: only changed files are read)."""
    if directory:
        ctx.ensure_object(dict)["project"] = directory
    rt = runtime(ctx)
    stats = _update(rt, as_json)
    embedded = None
    if rt.semantic is not None:

        async def embed():
            try:
                return await rt.semantic.refresh()
            finally:
                await rt.aclose()

        embedded = asyncio.run(embed())
    data = {
        "project": str(rt.project.root),
        "files": stats.files_seen,
        "indexed": stats.indexed,
        "removed": stats.removed,
        "skipped": stats.skipped,
        "chunks": stats.chunks,
        "seconds": round(stats.seconds, 3),
        "files_per_s": round(stats.files_per_s),
        "embedded": embedded.embedded if embedded else None,
        "unreadable": stats.unreadable,
    }
    if as_json:
        print_json(data)
    else:
        click.echo(
            f"indexed {inert(str(rt.project.root))}: {stats.files_seen} files ({stats.indexed} read, {stats.removed} removed, "
            f"{stats.skipped} binary or unreadable), {stats.chunks} chunks, {stats.seconds:.2f} s"
            + (f"; {embedded.embedded} chunk(s) embedded with {inert(str(rt.config.context.embeddings))}" if embedded else "")
        )


def _update(rt, as_json: bool):
    """Bring the index up to date, its progress on a terminal's stderr, its notices said."""
    stats = rt.index.update(_progress_line() if sys.stderr.isatty() and not as_json else None)
    index_notices(rt, stats.unreadable)
    return stats


def _progress_line():
    """`files done/total` on one rewritten stderr line while `coda index` runs."""

    def show(p) -> None:
        click.echo(f"\rindexing: {p.done:,}/{p.total:,} files", err=True, nl=False)
        if p.done >= p.total:
            click.echo("\r\033[K", err=True, nl=False)  # cleared for the summary line

    return show


@click.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def search(ctx, query: tuple[str, ...], limit: int, as_json: bool) -> None:
    """Search the project's code: file, line range, score and a snippet for each hit."""
    rt = runtime(ctx)
    indexed_now = False
    # Looked for without opening the index, which would create one for any folder.
    if not (rt.index_path.exists() and rt.index.file_count() > 0):
        # Indexed first when the app would index it unasked (the same rule): a small
        # project takes well under a second, and `coda ask` needs no index either.
        refusal = rt.project.auto_index_refusal()
        if refusal:
            raise CodaError(f"{rt.project.root} is not indexed yet ({refusal}): run 'coda index'")
        stats = _update(rt, as_json)
        click.echo(f"coda: indexed {inert(str(rt.project.root))} first: {stats.files_seen} files, "
                   f"{stats.seconds:.2f} s", err=True)
        indexed_now = True

    async def run_search():
        try:
            return await rt.search(" ".join(query), limit)
        finally:
            await rt.aclose()

    hits = asyncio.run(run_search())
    index_notices(rt)
    if hits is None and indexed_now:
        hits = []  # indexed just now and nothing in it: a folder with no text files
    if hits is None:
        raise CodaError(f"{rt.project.root} is not indexed yet: run 'coda index'")
    if as_json:
        print_json([{"path": h.path, "start_line": h.start_line, "end_line": h.end_line, "name": h.name,
                      "score": round(h.score, 3), "snippet": h.snippet} for h in hits])
        return
    if not hits:
        click.echo("no matches")
    for h in hits:
        name = f"  {h.name}" if h.name else ""
        click.echo(f"{inert(h.path)}:{h.start_line}-{h.end_line}  ({h.score:.2f}){inert(name)}")
        click.echo("    " + inert(" ".join(h.snippet.split()))[:200])
