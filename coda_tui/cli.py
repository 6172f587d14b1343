"""The headless `coda` command: a thin face over the same core the TUI drives."""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import asdict
from pathlib import Path

import click

from coda_tui import __version__, paths
from coda_tui.config import ConfigError
from coda_tui.context.attachments import AttachmentError, ContextTooLarge
from coda_tui.providers.errors import ProviderError
from coda_tui.textsafe import escape_controls, inert
from coda_tui.voice.errors import AudioFileError, VoiceError

EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130


class _Fail(click.ClickException):
    """A clear one-line error; exit status 1 unless given."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = code

    def show(self, file=None) -> None:
        # Messages quote servers, file names and sessions: stderr is a terminal too.
        click.echo(f"coda: {inert(self.message)}", err=True)


class CodaGroup(click.Group):
    def invoke(self, ctx: click.Context):
        from coda_tui.store import StoreError

        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            raise _Fail(str(exc), EXIT_CONFIG) from None
        except StoreError as exc:
            raise _Fail(str(exc)) from None
        except ContextTooLarge as exc:
            raise _Fail(str(exc), EXIT_CONFIG) from None
        except AttachmentError as exc:
            raise _Fail(f"cannot attach {exc}", EXIT_CONFIG) from None
        except ProviderError as exc:
            # A server's error text may echo the key it was sent.
            rt = (ctx.obj or {}).get("_runtime")
            raise _Fail(rt.redact(str(exc)) if rt else str(exc)) from None
        except VoiceError as exc:
            raise _Fail(exc.render(), EXIT_CONFIG if isinstance(exc, AudioFileError) else 1) from None
        except KeyboardInterrupt:
            click.echo("\ncoda: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)


# --- options shared by the group and its commands ----------------------------------------
# Given before or after the subcommand (`coda --provider x ask …` or `coda ask --provider x …`);
# the later one wins.

COMMON = ("provider", "model", "session", "project", "config")


def _remember(ctx: click.Context, param: click.Parameter, value):
    if value is not None:
        ctx.ensure_object(dict)[param.name] = value
    return value


def common_options(fn):
    opts = [
        click.option("--provider", help="Provider name ([providers.NAME], or local / ollama / openai).", expose_value=False, callback=_remember),
        click.option("--model", help="Model to use with that provider.", expose_value=False, callback=_remember),
        click.option("--session", help="Session id or name (created if no such session).", expose_value=False, callback=_remember),
        click.option("--project", type=click.Path(file_okay=False), help="Project directory.", expose_value=False, callback=_remember),
        click.option("--config", type=click.Path(dir_okay=False), help="Config file (default: platform config dir).", expose_value=False, callback=_remember),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def _opt(ctx: click.Context, name: str):
    return (ctx.obj or {}).get(name)


def _runtime(ctx: click.Context):
    from coda_tui.core.runtime import Runtime

    rt = ctx.obj.get("_runtime") if ctx.obj else None
    if rt is None:
        rt = Runtime(_opt(ctx, "config"), project=_opt(ctx, "project"))
        ctx.ensure_object(dict)["_runtime"] = rt
        ctx.call_on_close(rt.close)
        for warning in rt.config.warnings:
            click.echo(f"coda: warning: {inert(warning)}", err=True)
    return rt


def _print_json(data) -> None:
    click.echo(json_text(data))


def json_text(data) -> str:
    """JSON that is safe on a terminal: json escapes C0 controls itself; C1 and bidi
    controls are escaped too (the same JSON to a parser, inert to a terminal)."""
    return escape_controls(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _session_or_fail(rt, ref: str):
    found = rt.store.sessions.find(ref)
    if found is None:
        raise _Fail(f"no session '{ref}' (see 'coda sessions list')")
    return found


@click.group(cls=CodaGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="coda")
@common_options
@click.pass_context
def cli(ctx: click.Context) -> None:
    """coda: a keyboard-first terminal assistant for coding.

    With no command, opens the terminal app.
    """
    ctx.ensure_object(dict)
    if ctx.invoked_subcommand is None:
        rt = _runtime(ctx)
        provider = _opt(ctx, "provider")
        rt.config.provider(provider)  # config problems exit 2 here, before the screen changes
        from coda_tui.ui.keys import load_active_keymap

        keymap = load_active_keymap(rt.config)  # so does a broken keymap
        rt.store  # and an unusable database
        from coda_tui.ui.app import run_app

        run_app(
            rt,
            session_ref=_opt(ctx, "session"),
            provider=provider,
            model=_opt(ctx, "model"),
            project=rt.project.root,
            keymap=keymap,
        )


# --- ask -----------------------------------------------------------------------------


@cli.command()
@click.argument("prompt", nargs=-1)
@click.option("--file", "-f", "files", multiple=True, type=click.Path(dir_okay=False), help="Attach a file (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the response, session, usage and trace as JSON.")
@click.option("--trace", "show_trace", is_flag=True, help="Print the stage table after the answer (on stderr).")
@click.option("--raw", is_flag=True, help="Pass control characters through unchanged (only when stdout is not a terminal).")
@common_options
@click.pass_context
def ask(ctx: click.Context, prompt: tuple[str, ...], files, as_json: bool, show_trace: bool, raw: bool) -> None:
    """Ask one question; the answer streams to stdout. PROMPT '-' (or none) reads stdin."""
    text = " ".join(prompt)
    if text in ("", "-"):
        if sys.stdin is None or sys.stdin.isatty():
            raise _Fail("no question given: coda ask 'your question'", EXIT_CONFIG)
        text = sys.stdin.buffer.read().decode("utf-8", errors="replace")
    # Arguments that are not UTF-8 arrive as lone surrogates, which SQLite cannot store:
    # bytes that are not text become U+FFFD, as they would in an editor.
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if not text.strip():
        raise _Fail("the question is empty", EXIT_CONFIG)
    rt = _runtime(ctx)
    provider_name = _opt(ctx, "provider")
    rt.config.provider(provider_name)  # config problems (e.g. a missing key) exit 2 before anything runs
    out = sys.stdout
    passthrough = raw and not out.isatty()
    from coda_tui.core.events import FallingBack, Retrying, StageFinished, TokenChunk

    def on_event(event) -> None:
        if isinstance(event, StageFinished) and event.name == "context" and event.detail.get("trimmed"):
            from coda_tui.context.select import trim_note

            for trimmed in event.detail["trimmed"]:
                click.echo(f"coda: {inert(trim_note(trimmed))}", err=True)
        elif isinstance(event, TokenChunk) and not as_json:
            out.write(event.text if passthrough else inert(event.text))
            out.flush()
        elif isinstance(event, Retrying):
            click.echo(f"coda: retrying in {event.delay_s:.1f} s ({inert(event.reason)})", err=True)
        elif isinstance(event, FallingBack):
            target = event.next_provider + (f"/{event.next_model}" if event.next_model else "")
            click.echo(inert(f"coda: {event.provider}/{event.model} failed ({event.reason}); asking {target}"), err=True)

    unsubscribe = rt.bus.subscribe(on_event)

    async def go():
        try:
            return await rt.pipeline.run(
                text,
                session_ref=_opt(ctx, "session"),
                attachments=list(files),
                provider=provider_name,
                model=_opt(ctx, "model"),
            )
        finally:
            await rt.aclose()

    try:
        result = asyncio.run(go())
    finally:
        unsubscribe()
    if as_json:
        _print_json(
            {
                "response": result.text,
                "status": result.status,
                "session": {"id": result.session.id, "name": result.session.name},
                "message_id": result.message_id,
                "usage": asdict(result.usage),
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
        from coda_tui.cli_format import stage_table

        click.echo(stage_table(result.trace), err=True)
    if result.error is not None:
        if not as_json:
            click.echo(f"coda: {inert(result.trace.error or '')}", err=True)
            if result.status == "partial":
                click.echo(f"coda: the partial answer is kept in session {result.session.id}", err=True)
        ctx.exit(1)


# --- sessions ------------------------------------------------------------------------


@cli.group()
def sessions() -> None:
    """List, show, search, export and delete conversations."""


@sessions.command("list")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def sessions_list(ctx, limit: int, as_json: bool) -> None:
    """Sessions, most recently active first."""
    rows = _runtime(ctx).store.sessions.list(limit=limit)
    if as_json:
        _print_json([asdict(s) for s in rows])
        return
    if not rows:
        click.echo("no sessions yet: coda ask 'a question' starts one")
        return
    from coda_tui.cli_format import sessions_table

    click.echo(sessions_table(rows))


@sessions.command("show")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def sessions_show(ctx, ref: str, as_json: bool) -> None:
    """A session's messages."""
    from coda_tui.core.export import to_dict, to_markdown

    rt = _runtime(ctx)
    s = _session_or_fail(rt, ref)
    msgs = rt.store.sessions.messages(s.id)
    if as_json:
        _print_json(to_dict(s, msgs, rt.redact))
    else:
        click.echo(inert(to_markdown(s, msgs, rt.redact)), nl=False)


@sessions.command("export")
@click.argument("ref")
@click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write to a file instead of stdout.")
@common_options
@click.pass_context
def sessions_export(ctx, ref: str, fmt: str, output: str | None) -> None:
    """Export a session as Markdown or JSON."""
    from coda_tui.core.export import to_dict, to_markdown

    rt = _runtime(ctx)
    s = _session_or_fail(rt, ref)
    msgs = rt.store.sessions.messages(s.id)
    if fmt == "json":
        doc = json_text(to_dict(s, msgs, rt.redact))
    else:
        doc = to_markdown(s, msgs, rt.redact)
    if output:
        Path(output).write_text(doc, encoding="utf-8")
        click.echo(f"exported session {s.id} to {output}", err=True)
    else:
        click.echo(inert(doc) if sys.stdout.isatty() else doc, nl=False)


@sessions.command("delete")
@click.argument("ref")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@common_options
@click.pass_context
def sessions_delete(ctx, ref: str, yes: bool) -> None:
    """Delete a session with its messages and traces."""
    rt = _runtime(ctx)
    s = _session_or_fail(rt, ref)
    if not yes and not click.confirm(f"Delete session {s.id} '{s.name}' ({s.message_count} messages)?"):
        raise _Fail("nothing deleted")
    rt.store.sessions.delete(s.id)
    click.echo(f"deleted session {s.id}")


@sessions.command("rename")
@click.argument("ref")
@click.argument("name")
@common_options
@click.pass_context
def sessions_rename(ctx, ref: str, name: str) -> None:
    """Rename a session."""
    rt = _runtime(ctx)
    s = _session_or_fail(rt, ref)
    rt.store.sessions.rename(s.id, name)
    click.echo(f"renamed session {s.id} to '{name}'")


@sessions.command("search")
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def sessions_search(ctx, query: tuple[str, ...], limit: int, as_json: bool) -> None:
    """Full-text search over every message."""
    hits = _runtime(ctx).store.sessions.search(" ".join(query), limit=limit)
    if as_json:
        _print_json([asdict(h) for h in hits])
        return
    if not hits:
        click.echo("no matches")
        return
    for h in hits:
        click.echo(f"session {h.session_id} '{inert(h.session_name)}' · message {h.message_id} ({h.role})")
        click.echo("    " + inert(" ".join(h.snippet.split())))


# --- index and search --------------------------------------------------------------


@cli.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def index(ctx, directory: str | None, as_json: bool) -> None:
    """Index the project's code for search (incremental: only changed files are read)."""
    if directory:
        ctx.ensure_object(dict)["project"] = directory
    rt = _runtime(ctx)
    stats = rt.index.update()
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
    }
    if as_json:
        _print_json(data)
    else:
        click.echo(
            f"indexed {rt.project.root}: {stats.files_seen} files ({stats.indexed} read, {stats.removed} removed, "
            f"{stats.skipped} binary or unreadable), {stats.chunks} chunks, {stats.seconds:.2f} s"
            + (f"; {embedded.embedded} chunk(s) embedded with {rt.config.context.embeddings}" if embedded else "")
        )


@cli.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def search(ctx, query: tuple[str, ...], limit: int, as_json: bool) -> None:
    """Search the project's code: file, line range, score and a snippet for each hit."""
    rt = _runtime(ctx)

    async def run_search():
        try:
            return await rt.search(" ".join(query), limit)
        finally:
            await rt.aclose()

    hits = asyncio.run(run_search())
    if hits is None:
        raise _Fail(f"{rt.project.root} is not indexed yet: run 'coda index'")
    if as_json:
        _print_json([{"path": h.path, "start_line": h.start_line, "end_line": h.end_line, "name": h.name,
                      "score": round(h.score, 3), "snippet": h.snippet} for h in hits])
        return
    if not hits:
        click.echo("no matches")
    for h in hits:
        name = f"  {h.name}" if h.name else ""
        click.echo(f"{inert(h.path)}:{h.start_line}-{h.end_line}  ({h.score:.2f}){inert(name)}")
        click.echo("    " + inert(" ".join(h.snippet.split()))[:200])


# --- models, doctor, trace -----------------------------------------------------------


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def models(ctx, as_json: bool) -> None:
    """Models each provider offers (or only --provider's)."""
    from coda_tui.providers.errors import ProviderError

    rt = _runtime(ctx)
    only = _opt(ctx, "provider")
    names = [rt.config.provider(only).name] if only else sorted(rt.config.providers)

    async def gather():
        async def one(name):
            try:
                prov = rt.providers.get(name)
                return name, prov.default_model, await prov.list_models(), None
            except (ProviderError, ConfigError) as exc:
                return name, None, [], rt.redact(str(exc))

        try:
            return await asyncio.gather(*(one(n) for n in names))
        finally:
            await rt.aclose()

    results = asyncio.run(gather())
    if as_json:
        _print_json([{"provider": n, "default": d, "models": m, "error": e} for n, d, m, e in results])
    else:
        for name, default, found, err in results:
            click.echo(f"{name}:")
            if err:
                click.echo(f"  unavailable: {inert(err)}")
            for m in found:
                click.echo(f"  {inert(m)}{'  (default)' if m == default else ''}")
    if only and results[0][3]:
        ctx.exit(1)


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def doctor(ctx, as_json: bool) -> None:
    """Check config, database, providers, local and speech models, audio input."""
    from coda_tui.core import doctor as dr

    rt = _runtime(ctx)
    checks = dr.check_config(rt.config)
    checks.append(dr.check_database(lambda: rt.store))
    checks.append(dr.check_data_dir(paths.data_dir()))

    async def providers():
        try:
            return await dr.check_providers(rt.config, rt.providers)
        finally:
            await rt.aclose()

    provider_checks = asyncio.run(providers())
    checks += provider_checks
    checks += dr.check_resilience(rt.config, lambda: rt.cache)
    checks.append(dr.check_local_model())
    checks += dr.check_speech(rt.config.voice)
    default_ok = next(c.ok for c in provider_checks if c.name.endswith("(default)"))
    if as_json:
        _print_json({"ok": default_ok, "checks": [{**asdict(c), "detail": rt.redact(c.detail)} for c in checks]})
    else:
        marks = {True: "ok  ", False: "FAIL", None: "--  "}
        for c in checks:
            click.echo(f"{marks[c.ok]}  {inert(c.name):<24} {inert(rt.redact(c.detail) or '')}")
        if not default_ok:
            click.echo(f"\nthe default provider '{rt.config.general.provider}' cannot answer", err=True)
    if not default_ok:
        ctx.exit(1)


@cli.group()
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
    enabled = _runtime(ctx).config.cache.enabled
    c = _response_cache()
    try:
        stats = c.stats()
    finally:
        c.close()
    if as_json:
        _print_json({"enabled": enabled, **asdict(stats)})
        return
    click.echo(
        f"response cache {'on' if enabled else 'off ([cache] enabled = false)'}: {stats.entries} answer(s) in {stats.path}\n"
        f"{stats.hits} hit(s), {stats.misses} miss(es), saved {stats.saved_ms / 1000:,.1f} s"
    )


@cache.command("clear")
@common_options
@click.pass_context
def cache_clear(ctx) -> None:
    """Forget every cached answer (the conversations keep theirs)."""
    _runtime(ctx)
    c = _response_cache()
    try:
        gone = c.clear()
    finally:
        c.close()
    click.echo(f"{gone} cached answer(s) removed")


@cli.command()
@click.argument("trace_id", required=False, type=int)
@click.option("--last", "limit", default=10, show_default=True, help="How many recent traces to list.")
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def trace(ctx, trace_id: int | None, limit: int, as_json: bool) -> None:
    """Recent turns and where their time went; with TRACE_ID, its stages."""
    from coda_tui import cli_format

    rt = _runtime(ctx)
    if trace_id is not None:
        t = rt.store.traces.get(trace_id)
        if t is None:
            raise _Fail(f"no trace {trace_id} (see 'coda trace')")
        click.echo(json_text(t.to_dict()) if as_json else cli_format.stage_table(t))
        return
    session_ref = _opt(ctx, "session")
    session_id = _session_or_fail(rt, session_ref).id if session_ref else None
    traces = rt.store.traces.recent(limit, session_id=session_id)
    if as_json:
        _print_json([t.to_dict() for t in traces])
    elif not traces:
        click.echo("no traces yet")
    else:
        click.echo(cli_format.traces_table(traces))


from coda_tui.cli_voice import listen, transcribe  # noqa: E402 - registered after the group exists

cli.add_command(transcribe)
cli.add_command(listen)

# Imported last: they use the helpers above.
from coda_tui.cli_ops import ai, pipeline  # noqa: E402

cli.add_command(ai)
cli.add_command(pipeline)


def main() -> None:
    cli(prog_name="coda")


if __name__ == "__main__":
    main()
