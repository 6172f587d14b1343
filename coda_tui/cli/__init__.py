"""The headless `coda` command: a thin face over the same core the TUI drives.

This module is the group and the entry point; each family of commands lives in its own
module of this package, the options and helpers they share in cli.common.
"""

from __future__ import annotations

import errno
import sys

import click

from coda_tui import __version__, startup_gc
from coda_tui.cli.ask import ask
from coda_tui.cli.backups import backups
from coda_tui.cli.cache import cache
from coda_tui.cli.checks import doctor, models
from coda_tui.cli.compare import compare
from coda_tui.cli.common import EXIT_INTERRUPTED, common_options, opt, runtime
from coda_tui.cli.db import db
from coda_tui.cli.mcp_servers import mcp
from coda_tui.cli.memory import memory
from coda_tui.cli.ops import ai, pipeline
from coda_tui.cli.search import index, search
from coda_tui.cli.sessions import sessions
from coda_tui.cli.shell import shell
from coda_tui.cli.stats import stats
from coda_tui.cli.tools import tools, undo
from coda_tui.cli.trace import trace
from coda_tui.cli.voice import listen, transcribe
from coda_tui.errors import CodaError
from coda_tui.textsafe import inert


class _InertStream:
    """stderr as click's own messages see it: they quote what was typed (an unknown
    command, a bad value), and what was typed can hold escape sequences."""

    def __init__(self, stream) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        return self.stream.write(inert(text))

    def flush(self) -> None:
        self.stream.flush()


class CodaGroup(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CodaError as exc:
            # The one place a user-facing error is reported. A server's error text may
            # echo the key it was sent, and any message may quote a name or a path.
            rt = (ctx.obj or {}).get("_runtime")
            text = exc.render()
            click.echo(f"coda: {inert(rt.redact(text) if rt else text)}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("\ncoda: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise  # the reader went away (| head): click ends quietly
            # The last net under the file system (an unreadable folder, a full disk) where no
            # layer below said it better: one line naming the path, not a traceback.
            where = f": {exc.filename}" if exc.filename else ""
            click.echo(f"coda: {inert(f'{exc.strerror or exc}{where}')}", err=True)
            ctx.exit(1)

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except click.ClickException as exc:
            exc.show(file=_InertStream(sys.stderr))
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=CodaGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="coda")
@common_options
@click.pass_context
def cli(ctx: click.Context) -> None:
    """coda: a keyboard-first terminal assistant for coding.

    With no command, opens the terminal app.
    """
    ctx.ensure_object(dict)
    if ctx.invoked_subcommand is not None:
        startup_gc.resume()  # the terminal app resumes it after its first frame
    if ctx.invoked_subcommand is None:
        rt = runtime(ctx)
        provider = opt(ctx, "provider")
        rt.config.provider(provider)  # config problems exit 2 here, before the screen changes
        from coda_tui.ui.keys import load_active_keymap

        keymap = load_active_keymap(rt.config)  # so does a broken keymap
        rt.store  # and an unusable database
        from coda_tui.ui.app import run_app

        run_app(
            rt,
            session_ref=opt(ctx, "session"),
            provider=provider,
            model=opt(ctx, "model"),
            project=rt.project.root,
            keymap=keymap,
        )


for command in (ask, sessions, index, search, models, doctor, cache, trace, transcribe, listen, ai, pipeline, memory, shell, db, tools, undo, mcp, stats, compare, backups):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="coda")


if __name__ == "__main__":
    main()
