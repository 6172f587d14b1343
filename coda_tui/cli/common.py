"""What every command shares: the options given before or after the subcommand, the
runtime they open, and the ways they print and fail."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from coda_tui.errors import CodaError
from coda_tui.textsafe import escape_controls, inert

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
# SQLite's INTEGER: a larger "id" names no row, and must not reach the database as one.
MAX_ID = 2**63 - 1

# --- options shared by the group and its commands ----------------------------------------
# Given before or after the subcommand (`coda --provider x ask …` or `coda ask --provider x …`);
# the later one wins.


def usable_ref(ref: str) -> bool:
    """Can the store look this session reference up? Digits that are not ASCII (`²`) or
    beyond SQLite's integers would fail there as an id, and name no session."""
    return not ref.isdigit() or (ref.isascii() and int(ref) <= MAX_ID)


def _remember(ctx: click.Context, param: click.Parameter, value):
    if value is not None:
        if param.name == "session" and not usable_ref(value):
            raise click.BadParameter(f"no session '{value}' (see 'coda sessions list')", ctx, param)
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


def opt(ctx: click.Context, name: str):
    return (ctx.obj or {}).get(name)


def runtime(ctx: click.Context):
    """The runtime of this invocation, made on first use and closed when the command ends."""
    from coda_tui.core.runtime import Runtime

    rt = ctx.obj.get("_runtime") if ctx.obj else None
    if rt is None:
        rt = Runtime(opt(ctx, "config"), project=opt(ctx, "project"))
        ctx.ensure_object(dict)["_runtime"] = rt
        ctx.call_on_close(rt.close)
        for warning in rt.config.warnings:
            click.echo(f"coda: warning: {inert(warning)}", err=True)
    return rt


# --- printing --------------------------------------------------------------------------


def json_text(data) -> str:
    """JSON that is safe on a terminal: json escapes C0 controls itself; C1, bidi and the
    invisible characters are escaped too (the same JSON to a parser, inert to a terminal)."""
    return escape_controls(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def print_json(data) -> None:
    click.echo(json_text(data))


def emit(text: str, nl: bool = False) -> None:
    """Text from a model, a file or the database on stdout: inert, into a pipe too (it is
    read on a terminal sooner or later). The exact bytes are what -o FILE writes."""
    click.echo(inert(text), nl=nl)


# --- failing ---------------------------------------------------------------------------


def session_or_fail(rt, ref: str):
    found = rt.store.sessions.find(ref) if usable_ref(ref) else None
    if found is None:
        raise CodaError(f"no session '{ref}' (see 'coda sessions list')", exit_code=EXIT_USAGE)
    return found


def may_write(path: str, force: bool) -> None:
    """An existing file is overwritten only when asked: --force, or a yes on a terminal."""
    if force or not os.path.lexists(path):
        return
    shown = inert(path)
    if Path(path).is_dir():
        raise CodaError(f"{shown} is a directory", exit_code=EXIT_USAGE)
    if sys.stdin is not None and sys.stdin.isatty():
        if click.confirm(f"{shown} exists. Overwrite it?", default=False, err=True):
            return
        raise CodaError(f"nothing written; {shown} is unchanged")
    raise CodaError(f"{shown} exists: nothing written", hint="give --force to overwrite it", exit_code=EXIT_USAGE)


def index_notices(rt, unreadable: list[str] = ()) -> None:
    """Said once: a damaged index that was replaced, folders that could not be read."""
    index = rt.__dict__.get("index")  # not made by a command that searched nothing
    if index is not None and index.notice:
        click.echo(f"coda: {inert(index.notice)}", err=True)
        index.notice = None
    if unreadable:
        shown = ", ".join(unreadable[:5]) + (f" and {len(unreadable) - 5} more" if len(unreadable) > 5 else "")
        click.echo(f"coda: skipped {len(unreadable)} folder(s) that cannot be read: {inert(shown)}", err=True)
