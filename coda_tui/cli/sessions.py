"""`coda sessions …`: list, show, search, export, rename and delete conversations, and
rate answers."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click

from coda_tui.cli.common import (
    MAX_ID,
    common_options,
    emit,
    json_text,
    may_write,
    print_json,
    runtime,
    session_or_fail,
)
from coda_tui.errors import CodaError
from coda_tui.textsafe import inert


@click.group()
def sessions() -> None:
    """List, show, search, export and delete conversations."""


@sessions.command("list")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(0, 1_000_000))
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def sessions_list(ctx, limit: int, as_json: bool) -> None:
    """Sessions, most recently active first."""
    rows = runtime(ctx).sessions.list(limit=limit)
    if as_json:
        print_json([asdict(s) for s in rows])
        return
    if not rows:
        click.echo("no sessions yet: coda ask 'a question' starts one")
        return
    from coda_tui.cli.tables import sessions_table

    click.echo(sessions_table(rows))


@sessions.command("show")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def sessions_show(ctx, ref: str, as_json: bool) -> None:
    """A session's messages."""
    from coda_tui.core.export import to_dict, to_markdown

    rt = runtime(ctx)
    s = session_or_fail(rt, ref)
    msgs = rt.store.sessions.messages(s.id)
    if as_json:
        print_json(to_dict(s, msgs, rt.redact))
    else:
        click.echo(inert(to_markdown(s, msgs, rt.redact)), nl=False)


@sessions.command("export")
@click.argument("ref")
@click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to a file instead of stdout.")
@click.option("--force", is_flag=True, help="Overwrite --output if it exists (without asking).")
@common_options
@click.pass_context
def sessions_export(ctx, ref: str, fmt: str, output: str | None, force: bool) -> None:
    """Export a session as Markdown or JSON."""
    from coda_tui.core.export import to_dict, to_markdown

    rt = runtime(ctx)
    s = session_or_fail(rt, ref)
    msgs = rt.store.sessions.messages(s.id)
    if fmt == "json":
        from coda_tui.core.memory import facts_used

        data = to_dict(s, msgs, rt.redact)
        # The remembered facts its turns were given (issue 17): part of what shaped the answers.
        data["facts"] = [{**asdict(f), "scope": f.scope, "text": rt.redact(f.text)} for f in facts_used(rt.store, s.id)]
        doc = json_text(data)
    else:
        doc = to_markdown(s, msgs, rt.redact)
    if output:
        may_write(output, force)
        try:
            Path(output).write_text(doc, encoding="utf-8")
        except OSError as exc:
            raise CodaError(f"cannot write {inert(output)}: {exc.strerror or exc}") from None
        click.echo(f"exported session {s.id} to {inert(output)}", err=True)
    else:
        emit(doc)


@sessions.command("delete")
@click.argument("ref")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@common_options
@click.pass_context
def sessions_delete(ctx, ref: str, yes: bool) -> None:
    """Delete a session with its messages and traces."""
    rt = runtime(ctx)
    s = session_or_fail(rt, ref)
    # The name may come from a question: inert, so it cannot act on the terminal it asks on.
    if not yes and not click.confirm(f"Delete session {s.id} '{inert(s.name)}' ({s.message_count} messages)?"):
        raise CodaError("nothing deleted")
    rt.sessions.delete(s.id)
    click.echo(f"deleted session {s.id}")


@sessions.command("rename")
@click.argument("ref")
@click.argument("name")
@common_options
@click.pass_context
def sessions_rename(ctx, ref: str, name: str) -> None:
    """Rename a session."""
    rt = runtime(ctx)
    s = session_or_fail(rt, ref)
    renamed = rt.sessions.rename(s.id, name)
    click.echo(f"renamed session {s.id} to '{inert(renamed.name)}'")


@sessions.command("rate")
@click.argument("message_id", metavar="MSG", type=click.IntRange(1, MAX_ID))
@click.argument("verdict", type=click.Choice(["up", "down", "clear"]))
@click.option("--reason", default="", help="Why, in one line (kept with the rating).")
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def sessions_rate(ctx, message_id: int, verdict: str, reason: str, as_json: bool) -> None:
    """Rate an answer up or down (clear removes the rating); MSG is the answer's id."""
    m = runtime(ctx).sessions.rate(message_id, verdict, reason)
    if as_json:
        print_json({"message_id": m.id, "session_id": m.session_id, "rating": m.rating,
                    "reason": m.rating_reason, "rated_at": m.rated_at})
        return
    said = f"rated answer {m.id} {verdict}" if m.rating is not None else f"cleared the rating of answer {m.id}"
    click.echo(said + (f": {inert(m.rating_reason)}" if m.rating_reason else ""))


@sessions.command("search")
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(0, 1_000_000))
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def sessions_search(ctx, query: tuple[str, ...], limit: int, as_json: bool) -> None:
    """Full-text search over every message."""
    hits = runtime(ctx).store.sessions.search(" ".join(query), limit=limit)
    if as_json:
        print_json([asdict(h) for h in hits])
        return
    if not hits:
        click.echo("no matches")
        return
    for h in hits:
        click.echo(f"session {h.session_id} '{inert(h.session_name)}' · message {h.message_id} ({h.role})")
        click.echo("    " + inert(" ".join(h.snippet.split())))


