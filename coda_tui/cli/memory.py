"""`coda memory …`: what a turn's model was given from memory, and how that changed
between turns."""

from __future__ import annotations

import click

from coda_tui.cli.common import (
    EXIT_USAGE,
    MAX_ID,
    common_options,
    opt,
    print_json,
    runtime,
    session_or_fail,
)
from coda_tui.errors import CodaError
from coda_tui.textsafe import inert

BAR_WIDTH = 24


@click.group()
def memory() -> None:
    """Memory snapshots of turns: what went in, what was left out."""


def _trace(rt, ctx, trace_id: str | None):
    if trace_id is None:
        session_ref = opt(ctx, "session")
        session_id = session_or_fail(rt, session_ref).id if session_ref else None
        recent = rt.store.traces.recent(1, session_id=session_id)
        if not recent:
            raise CodaError("no traces yet: coda ask 'a question' makes one", exit_code=EXIT_USAGE)
        return recent[0]
    # Anything but a plain number within SQLite's integers names no trace (`²`, 10**30).
    found = rt.store.traces.get(int(trace_id)) if trace_id.isascii() and trace_id.isdigit() and int(trace_id) <= MAX_ID else None
    if found is None:
        raise CodaError(f"no trace {trace_id} (see 'coda trace')", exit_code=EXIT_USAGE)
    return found


def _snapshot(rt, ctx, trace_id: str | None) -> tuple[object, dict]:
    from coda_tui.core.memory import snapshot_of

    t = _trace(rt, ctx, trace_id)
    snap = snapshot_of(t)
    if snap is None:
        raise CodaError(f"trace {t.id} has no memory snapshot (it predates them, or never reached the memory stage)",
                        exit_code=EXIT_USAGE)
    return t, snap


def _bar(tokens: int, most: int) -> str:
    return "█" * max(1, round(BAR_WIDTH * tokens / most)) if most else ""


def _line(row, most: int, lead: str = "") -> str:
    bar = _bar(row.tokens, most) if row.bar else ""
    return f"  {lead}{inert(row.label):<40} {row.tokens:>6}  {bar}{row.note}"


def render_snapshot(t, snap: dict) -> str:
    from coda_tui.core.memory_report import headline, most_tokens, snapshot_sections

    sections = snapshot_sections(snap)
    most = most_tokens(sections)
    lines = [headline(t, snap)]
    for section in sections:
        lines.append(section.title)
        lines += [_line(row, most) for row in section.rows]
    return "\n".join(lines)


@memory.command("show")
@click.argument("trace_id", required=False)
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def memory_show(ctx, trace_id: str | None, as_json: bool) -> None:
    """What TRACE_ID's model got from memory (default: the latest turn, of --session if given)."""
    t, snap = _snapshot(runtime(ctx), ctx, trace_id)
    if as_json:
        print_json({"trace_id": t.id, "session_id": t.session_id, "user_message_id": t.user_message_id, **snap})
    else:
        click.echo(render_snapshot(t, snap))


@memory.command("diff")
@click.argument("a")
@click.argument("b")
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def memory_diff(ctx, a: str, b: str, as_json: bool) -> None:
    """What entered memory between traces A and B, what left it, and what changed size."""
    from coda_tui.core.memory import compare
    from coda_tui.core.memory_report import diff_sections, most_tokens

    rt = runtime(ctx)
    ta, sa = _snapshot(rt, ctx, a)
    tb, sb = _snapshot(rt, ctx, b)
    delta = compare(sa, sb)
    if as_json:
        print_json({"a": ta.id, "b": tb.id, **delta})
        return
    click.echo(f"memory from trace {ta.id} to trace {tb.id}")
    sections = diff_sections(delta)
    most = most_tokens(sections)
    for section in sections:
        click.echo(section.title)
        for row in section.rows:
            click.echo(_line(row, most, f"{row.part:<12} "))


def _facts_command(ctx, command) -> str:
    from coda_tui.core.slash import run_fact_command

    rt = runtime(ctx)
    return run_fact_command(command, rt.store.facts, str(rt.project.root), rt.redact)


@memory.command("remember")
@click.argument("text", nargs=-1, required=True)
@click.option("--global", "everywhere", is_flag=True, help="For every project, not only this one.")
@common_options
@click.pass_context
def memory_remember(ctx, text: tuple[str, ...], everywhere: bool) -> None:
    """Keep a fact that every later turn of this project (--global: of every project) includes."""
    from coda_tui.core.slash import SlashCommand

    fact = " ".join(text).strip()
    if not fact:
        raise CodaError("nothing to remember: give the fact as text", exit_code=EXIT_USAGE)
    click.echo(_facts_command(ctx, SlashCommand("remember", text=fact, everywhere=everywhere)))


@memory.command("facts")
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def memory_facts(ctx, as_json: bool) -> None:
    """The facts every turn of this project includes: its own and the global ones."""
    rt = runtime(ctx)
    facts = rt.store.facts.for_project(str(rt.project.root))
    if as_json:
        print_json([{"id": f.id, "scope": f.scope, "project": f.project, "text": f.text, "created_at": f.created_at}
                    for f in facts])
    elif not facts:
        click.echo("no facts yet: coda memory remember TEXT keeps one")
    else:
        for f in facts:
            click.echo(f"#{f.id} ({f.scope}) {inert(f.text)}")


@memory.command("forget")
@click.argument("fact_id")
@common_options
@click.pass_context
def memory_forget(ctx, fact_id: str) -> None:
    """Remove a remembered fact (see 'coda memory facts')."""
    from coda_tui.core.slash import SlashCommand

    if not (fact_id.isascii() and fact_id.isdigit()):
        raise CodaError(f"no fact {fact_id} (see 'coda memory facts')", exit_code=EXIT_USAGE)
    click.echo(inert(_facts_command(ctx, SlashCommand("forget", text=fact_id))))
