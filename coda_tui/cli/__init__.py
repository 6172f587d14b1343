"""The headless `coda` command: a thin face over the same core the TUI drives.

This module is the group and the entry point; each family of commands lives in its own
module of this package, the options and helpers they share in cli.common.
"""

from __future__ import annotations

import errno
import importlib
import sys

import click

from coda_tui import __version__, startup_gc
from coda_tui.cli.common import EXIT_INTERRUPTED, common_options, opt, runtime
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


# Each command's module is imported when that command runs, not before: `coda ask` would
# otherwise pay for every other command's imports (their store and core modules) before
# its model loads. `coda --help`, completion and a misspelt name import them all.
COMMANDS = {
    "ai": "ops", "ask": "ask", "backups": "backups", "cache": "cache", "compare": "compare",
    "db": "db", "doctor": "checks", "index": "search", "listen": "voice", "mcp": "mcp_servers",
    "memory": "memory", "models": "checks", "pipeline": "ops", "search": "search",
    "sessions": "sessions", "shell": "shell", "stats": "stats", "tools": "tools",
    "trace": "trace", "transcribe": "voice", "undo": "tools",
}


class CodaGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module = importlib.import_module(f"coda_tui.cli.{COMMANDS[cmd_name]}")
            self.add_command(getattr(module, cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        if args and click.utils.make_str(args[0]) not in COMMANDS:
            for name in COMMANDS:  # so click's "did you mean" looks through every command
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)

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


def main() -> None:
    cli(prog_name="coda")


if __name__ == "__main__":
    main()
