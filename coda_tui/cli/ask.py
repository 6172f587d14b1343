"""`coda ask`: one question, the answer streamed to stdout."""

from __future__ import annotations

import asyncio
import io
import os
import stat
import sys
from dataclasses import asdict

import click

from coda_tui.cli.common import (
    EXIT_USAGE,
    common_options,
    index_notices,
    opt,
    print_json,
    runtime,
)
from coda_tui.core.choice import label
from coda_tui.errors import CodaError
from coda_tui.textsafe import inert


def _as_text(raw: str | bytes) -> str:
    # Arguments that are not UTF-8 arrive as lone surrogates, which SQLite cannot store:
    # bytes that are not text become U+FFFD, as they would in an editor.
    if isinstance(raw, bytes):
        return raw.decode("utf-8", errors="replace")
    return raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def piped_stdin() -> str | None:
    """What was piped or redirected to coda, if anything. A terminal is not read, and
    neither is an inherited /dev/null or socket: only a pipe or a file holds input meant
    for this question (reading anything else could wait forever)."""
    stdin = sys.stdin
    if stdin is None or stdin.isatty():
        return None
    try:
        mode = os.fstat(stdin.fileno()).st_mode
    except (OSError, ValueError, io.UnsupportedOperation):
        mode = None  # an in-memory stream (a test runner): what it holds was given to us
    if mode is not None and not (stat.S_ISFIFO(mode) or stat.S_ISREG(mode)):
        return None
    return _as_text(stdin.buffer.read())


@click.command()
@click.argument("prompt", nargs=-1)
@click.option("--file", "-f", "files", multiple=True, type=click.Path(dir_okay=False), help="Attach a file (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the response, session, usage and trace as JSON.")
@click.option("--trace", "show_trace", is_flag=True, help="Print the stage table after the answer (on stderr).")
@click.option("--raw", is_flag=True, help="Pass control characters through unchanged (only when stdout is not a terminal).")
@click.option("--no-tools", is_flag=True, help="Do not let the model call tools this time.")
@click.option("--yes", "-y", "yes", is_flag=True,
              help="Answer yes to every tool that asks (edits, commands); deny rules still hold.")
@common_options
@click.pass_context
def ask(ctx: click.Context, prompt: tuple[str, ...], files, as_json: bool, show_trace: bool, raw: bool,
        no_tools: bool, yes: bool) -> None:
    """Ask one question; the answer streams to stdout. PROMPT '-' (or none) reads stdin;
    with a PROMPT, piped text follows it as a fenced block (git diff | coda ask "Review this")."""
    text = _as_text(" ".join(prompt))
    piped = piped_stdin()
    if text in ("", "-"):
        if piped is None:
            raise CodaError("no question given: coda ask 'your question'", exit_code=EXIT_USAGE)
        text, piped = piped, None
    if not text.strip():
        raise CodaError("the question is empty", exit_code=EXIT_USAGE)
    rt = runtime(ctx)
    provider_name = opt(ctx, "provider")
    rt.config.provider(provider_name)  # config problems (e.g. a missing key) exit 2 before anything runs
    out = sys.stdout
    passthrough = raw and not out.isatty()
    from coda_tui.cli.tool_calls import CallLines, ask_at_terminal, can_ask
    from coda_tui.core.events import FallingBack, Retrying, StageFinished, TokenChunk

    use_tools = rt.config.tools.enabled and not no_tools
    if use_tools and yes:
        rt.toolbox.policy.yes = True
    # Without a person at the terminal (piped input, a script), calls that must ask are not run.
    consent = ask_at_terminal if use_tools and can_ask() else None
    tool_lines = CallLines(out, sys.stderr)

    def on_event(event) -> None:
        if isinstance(event, StageFinished) and event.name == "context" and event.detail.get("trimmed"):
            from coda_tui.context.report import trim_note

            for trimmed in event.detail["trimmed"]:
                click.echo(f"coda: {inert(trim_note(trimmed))}", err=True)
        elif isinstance(event, TokenChunk) and not as_json:
            out.write(event.text if passthrough else inert(event.text))
            out.flush()
            tool_lines.wrote(event.text)
        elif isinstance(event, Retrying):
            click.echo(f"coda: retrying in {event.delay_s:.1f} s ({inert(event.reason)})", err=True)
        elif isinstance(event, FallingBack):
            target = label(event.next_provider, event.next_model)
            click.echo(inert(f"coda: {label(event.provider, event.model)} failed ({event.reason}); asking {target}"), err=True)
        elif not as_json:
            tool_lines(event)

    unsubscribe = rt.bus.subscribe(on_event)

    async def go():
        try:
            return await rt.turns.run(
                text,
                session_ref=opt(ctx, "session"),
                attachments=list(files),
                provider=provider_name,
                model=opt(ctx, "model"),
                piped=piped or None,
                tools=use_tools,
                consent=consent,
            )
        finally:
            await rt.aclose()

    try:
        result = asyncio.run(go())
    finally:
        unsubscribe()
        index_notices(rt)
    if as_json:
        from coda_tui.providers.pricing import CostTotal, stage_costs

        print_json(
            {
                "response": result.text,
                "status": result.status,
                "session": {"id": result.session.id, "name": result.session.name},
                "message_id": result.message_id,
                "usage": asdict(result.usage),
                "cost": CostTotal.of(stage_costs(result.trace.stages)).to_dict(),
                # Every tool call of the turn, with its arguments, outcome and result.
                "tool_calls": [c.to_dict() for c in result.tool_calls],
                "error": result.trace.error,
                "trace": result.trace.to_dict(),
            }
        )
    else:
        if result.text and not result.text.endswith("\n"):
            out.write("\n")
        out.flush()
        if not result.text and result.status == "complete":
            click.echo("coda: the model sent an empty answer", err=True)
    if show_trace:
        from coda_tui.cli.tables import stage_table

        click.echo(stage_table(result.trace), err=True)
    if result.error is not None:
        if not as_json:
            click.echo(f"coda: {inert(result.trace.error or '')}", err=True)
            if result.status == "partial":
                click.echo(f"coda: the partial answer is kept in session {result.session.id}", err=True)
        ctx.exit(1)
