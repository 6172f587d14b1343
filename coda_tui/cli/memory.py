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


def _label(part: str, item: dict) -> str:
    if part == "instructions":
        return inert(item["path"])
    if part == "facts":
        return f"fact #{item['id']}" + (f" ({item['scope']})" if "scope" in item else "")
    if part == "recalled":
        return f"#{item['id']} {item['role']} · session {item['session_id']} · score {item['score']}"
    return f"#{item['id']} {item['role']}"


def _rows(part: str, items: list[dict], most: int, extra=lambda item: "") -> list[str]:
    return [f"  {_label(part, i):<40} {i['tokens']:>6}  {_bar(i['tokens'], most)}{extra(i)}" for i in items]


def render_snapshot(t, snap: dict) -> str:
    every = [i["tokens"] for part in ("window", "left", "recalled", "instructions", "facts") for i in snap[part]]
    most = max(every, default=0)
    lines = [(f"trace {t.id} · session {t.session_id} · question #{t.user_message_id} · "
              f"history budget {snap['budget']} tokens, system prompt {snap.get('system_tokens', 0)} tokens")]
    sections = (("window", "in the window"), ("recalled", "recalled from other sessions"),
                ("instructions", "project instructions"), ("facts", "facts"))
    for part, title in sections:
        items = snap[part]
        total = sum(i["tokens"] for i in items)
        lines.append(f"{title}: {len(items)}, {total} tokens" if items else f"{title}: none")
        lines += _rows(part, items, most, lambda i: " (truncated)" if i.get("truncated") else "")
    if snap["left_standing"]:
        lines.append(f"not in the system prompt: {len(snap['left_standing'])}")
        lines += [f"  {_label(i['part'], i):<40} {i['tokens']:>6}  ({i['reason']})" for i in snap["left_standing"]]
    left = snap["left"]
    if left:
        listed = f" (the newest {len(left)} listed)" if snap["left_count"] > len(left) else ""
        lines.append(f"left out: {snap['left_count']}, {snap['left_tokens']} tokens{listed}")
        lines += _rows("window", left, most, lambda i: f"  ({i['reason']})")
    else:
        lines.append("left out: none")
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

    rt = runtime(ctx)
    ta, sa = _snapshot(rt, ctx, a)
    tb, sb = _snapshot(rt, ctx, b)
    delta = compare(sa, sb)
    if as_json:
        print_json({"a": ta.id, "b": tb.id, **delta})
        return
    click.echo(f"memory from trace {ta.id} to trace {tb.id}")
    most = max((i["tokens"] for items in delta.values() for i in items), default=0)
    for kind in ("entered", "left", "changed"):
        items = delta[kind]
        click.echo(f"{kind}: {len(items)}" if items else f"{kind}: none")
        for i in items:
            why = f"  ({i['reason']})" if i.get("reason") else ""
            was = f"  (was {i['tokens_before']})" if kind == "changed" else ""
            click.echo(f"  {i['part']:<12} {_label(i['part'], i):<40} {i['tokens']:>6}  {_bar(i['tokens'], most)}{why}{was}")


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
