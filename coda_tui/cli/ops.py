"""`coda ai OPERATION` and `coda pipeline`: coding operations and pipelines of them (the
operation chains of core.chain)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import click

from coda_tui.cli.common import (
    EXIT_USAGE,
    common_options,
    emit,
    json_text,
    may_write,
    opt,
    print_json,
    runtime,
)
from coda_tui.errors import CodaError
from coda_tui.textsafe import inert

# The operations by name, for the command line's choices. The operations themselves (and
# the spec parser) load only when a command runs: `coda` starts the app through this package,
# and every import here is paid at each start. tests/test_cli_ops.py keeps the two in step.
OPERATION_NAMES = ("analyze", "explain", "refactor", "generate", "test", "review")


def _spec_fail(exc) -> CodaError:
    return CodaError(f"bad pipeline spec at column {exc.column}: {exc.message}\n{exc.caret()}", exit_code=EXIT_USAGE)


def _progress(rt):
    """Each step's start and end on stderr, so a long chain shows where it is."""
    from coda_tui.core.chain_events import StepFinished, StepStarted

    started: dict[int, float] = {}

    def on_event(event) -> None:
        if isinstance(event, StepStarted):
            started[event.index] = time.perf_counter()
            click.echo(f"coda: [{event.index + 1}] {inert(event.label)} …", err=True)
        elif isinstance(event, StepFinished):
            s = event.step
            took = f" ({time.perf_counter() - started[s.index]:.1f} s)" if s.index in started else ""
            click.echo(f"coda: [{s.index + 1}] {inert(s.summary())}{took}", err=True)

    return rt.bus.subscribe(on_event)


def _run_chain(ctx, spec, stream: bool = False, **kwargs):
    from coda_tui.core.chain import ChainRunner

    rt = runtime(ctx)
    provider = opt(ctx, "provider")
    rt.config.provider(provider)
    if stream:  # the stream's headers and end lines stand in for the progress lines
        from coda_tui.core.chain_stream import ChainStream

        unsubscribe = rt.bus.subscribe(ChainStream(emit).feed)
    else:
        unsubscribe = _progress(rt)

    async def go():
        try:
            return await ChainRunner(rt.turns).run(spec, provider=provider, model=opt(ctx, "model"),
                                                      session_ref=opt(ctx, "session"), **kwargs)
        finally:
            await rt.aclose()

    try:
        return asyncio.run(go())
    finally:
        unsubscribe()


# --- coda ai -------------------------------------------------------------------------------


def _params(step) -> str:
    return " ".join(f"{p.name}:{'|'.join(p.choices) if p.choices else '…'}" for p in step.params) or "(no parameters)"


def _operations_help(transformers: bool = False) -> str:
    from coda_tui.core.operations import OPERATIONS

    sections = [("Operations and their parameters (KEY:VALUE):", OPERATIONS, 9)]
    if transformers:
        from coda_tui.core.transformers import TRANSFORMERS

        sections.append(("Transformers: steps after an operation that reshape its results, locally:", TRANSFORMERS, 18))
    lines = []
    for title, steps, width in sections:
        # click keeps a paragraph's lines as written only when "\b" opens the paragraph:
        # a blank line before it, or the marker is printed as a raw backspace.
        lines += ["", "\b", title] if lines else ["\b", title]
        for op in steps.values():
            lines.append(f"  {op.name:<{width}} {_params(op)}")
            lines.append(f"  {'':<{width}} {op.help}")
    return "\n".join(lines)


class _OperationsHelp:
    """Lists the operations and their parameters under --help, made only when asked for."""

    transformers = False  # list the transformers too (pipelines take them)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.epilog = _operations_help(self.transformers)
        super().format_epilog(ctx, formatter)


class _OperationsCommand(_OperationsHelp, click.Command):
    pass


class _OperationsGroup(_OperationsHelp, click.Group):
    transformers = True


@click.command(cls=_OperationsCommand)
@click.argument("operation", type=click.Choice(OPERATION_NAMES))
@click.argument("params", nargs=-1)
@click.option("--file", "-f", "file", type=click.Path(dir_okay=False), help="The file to work on.")
@click.option("--context", "context_files", multiple=True, type=click.Path(dir_okay=False),
              help="More files for the model to read (generate: code to match; repeatable).")
@click.option("--output", "-o", "fmt", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True)
@click.option("--apply", "do_apply", is_flag=True, help="refactor: write the diff to the file after confirmation (a backup is kept).")
@click.option("--yes", "-y", is_flag=True, help="refactor --apply: do not ask.")
@common_options
@click.pass_context
def ai(ctx, operation: str, params: tuple[str, ...], file: str | None, context_files, fmt: str, do_apply: bool, yes: bool) -> None:
    """Run one coding operation on a file: coda ai analyze --file app.py type:security

    refactor shows its diff and changes nothing unless --apply is given and confirmed; the
    original is then kept under the data dir's backups/ folder. review reads `git diff`.
    """
    from coda_tui.core.spec import Branch, Spec, SpecError, step_from_args

    if do_apply and operation != "refactor":
        raise CodaError("--apply is for refactor", exit_code=EXIT_USAGE)
    try:
        step = step_from_args(operation, list(params))
    except SpecError as exc:
        raise _spec_fail(exc) from None
    spec = Spec(step.label, [[Branch(step)]])
    chain = _run_chain(ctx, spec, input_path=file, context_files=list(context_files))
    outcome = chain.steps[0]
    result = outcome.result
    if fmt == "json":
        print_json(outcome.to_dict())
    elif result is not None:
        emit(result.to_markdown())
    if result is not None and not result.parsed:
        click.echo(f"coda: the answer was not in the form asked for: {inert(result.note)}", err=True)
    if outcome.status != "complete":
        if fmt != "json":
            click.echo(f"coda: {operation} failed: {inert(outcome.note or outcome.status)}", err=True)
        ctx.exit(1)
    if do_apply:
        _apply(ctx, result, yes)


def _apply(ctx, result, yes: bool) -> None:
    from coda_tui.core.apply import apply_diff
    from coda_tui.patch import PatchError

    if result is None or not result.diff:
        raise CodaError("nothing to apply: the answer had no usable diff" + (f" ({inert(result.note)})" if result and result.note else ""))
    rt = runtime(ctx)
    target = inert(result.target)
    if not yes and not click.confirm(f"Apply this diff to {target}?", default=False, err=True):
        raise CodaError(f"not applied; {target} is unchanged")
    try:
        applied = apply_diff(rt.project, rt.project.root / result.target, result.diff, rt.config.backups)
    except PatchError as exc:
        raise CodaError(f"not applied: {inert(str(exc))}") from None
    except OSError as exc:
        raise CodaError(f"not applied: cannot write {target}: {exc.strerror or exc}") from None
    click.echo(f"coda: applied to {target} (+{applied.added} -{applied.removed}); the original is kept at {inert(str(applied.backup))}", err=True)


# --- coda pipeline -------------------------------------------------------------------------

PIPELINE_HELP = """Run a chain of operations on a file.

\b
  coda pipeline --spec "analyze type:quality | if:quality<0.8 refactor else explain" --input app.py
  coda pipeline --spec code_review --input app.py --output review.md
  coda pipeline --stream --spec "analyze & analyze type:security | combine_results | refactor" -i app.py
  coda pipeline validate "analyze & analyze type:security | test"
  coda pipeline list

\b
Spec grammar:
  spec    := stage ( "|" stage )*      stages run in order; each step gets the results
                                        of the stage before it
  stage   := branch ( "&" branch )*    branches joined by "&" run at the same time
  branch  := [if:NAME<NUMBER] step [else step]
  step    := NAME KEY:VALUE …          an operation or a transformer (below);
                                        values with spaces in "double quotes"

\b
A condition compares a score (0-1) an earlier stage returned: quality, performance or
security (from analyze type:…), review (from review), or score (the latest). Comparisons:
< <= > >= == !=. A false condition runs the else step if there is one, else skips.
A bare workflow name (see 'coda pipeline list') stands for its spec; define your own
in the config: [workflows] mine = "analyze | test".
"""


@click.group(cls=_OperationsGroup, invoke_without_command=True, help=PIPELINE_HELP)
@click.option("--spec", "spec_text", help="The pipeline spec, or a workflow name.")
@click.option("--input", "-i", "input_path", type=click.Path(dir_okay=False), help="The file the steps work on.")
@click.option("--output", "-o", "output", type=click.Path(dir_okay=False), help="Write the report to FILE (.json: JSON).")
@click.option("--force", is_flag=True, help="Overwrite --output if it exists (without asking).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--continue-on-error", is_flag=True, help="Run the later steps even when one fails.")
@click.option("--stream", is_flag=True, help="Print each step's answer as it arrives, under a header per step.")
@click.option("--context", "context_files", multiple=True, type=click.Path(dir_okay=False), help="More files to read (repeatable).")
@common_options
@click.pass_context
def pipeline(ctx, spec_text, input_path, output, force, as_json, continue_on_error, context_files, stream) -> None:
    if ctx.invoked_subcommand is not None:
        return
    if not spec_text:
        click.echo(ctx.get_help())
        ctx.exit(EXIT_USAGE)
    from coda_tui.core.spec import SpecError, parse, workflows

    if stream and as_json and not output:
        raise CodaError("--stream prints the answers as they come, --json one document at the end: "
                        "choose one, or send the JSON to a file with --output FILE.json", exit_code=EXIT_USAGE)
    rt = runtime(ctx)
    try:
        spec = parse(spec_text, workflows(rt.config))
    except SpecError as exc:
        raise _spec_fail(exc) from None
    if output:
        may_write(output, force)  # asked before the run, not after minutes of it
    chain = _run_chain(ctx, spec, stream, input_path=input_path, context_files=list(context_files),
                       continue_on_error=continue_on_error)
    report_json = as_json or (output or "").endswith(".json")
    doc = json_text(chain.to_dict()) + "\n" if report_json else chain.to_markdown()
    if output:
        try:
            Path(output).write_text(doc, encoding="utf-8")
        except OSError as exc:
            raise CodaError(f"cannot write {inert(output)}: {exc.strerror or exc}") from None
        click.echo(f"coda: report written to {inert(output)}", err=True)
    elif not stream:
        emit(doc)
    if chain.trace is not None:
        click.echo(f"coda: pipeline {chain.status}; its trace is 'coda trace {chain.trace.id}'", err=True)
    if chain.status != "complete":
        ctx.exit(1)


@pipeline.command("validate")
@click.argument("spec_text", metavar="SPEC")
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def pipeline_validate(ctx, spec_text: str, as_json: bool) -> None:
    """Check a spec without running it: exit 0 and its stages, or exit 2 and where it is wrong."""
    from coda_tui.core.spec import SpecError, parse, workflows
    from coda_tui.core.transformers import TRANSFORMERS

    try:
        spec = parse(spec_text, workflows(runtime(ctx).config))
    except SpecError as exc:
        if as_json:
            print_json({"valid": False, "column": exc.column, "token": exc.token, "message": exc.message})
            ctx.exit(EXIT_USAGE)
        raise _spec_fail(exc) from None
    if as_json:
        print_json({"valid": True, "spec": spec.canonical(),
                     "stages": [[b.label for b in stage] for stage in spec.stages]})
        return
    click.echo(f"valid: {inert(spec.canonical())}")
    for i, stage in enumerate(spec.stages, 1):
        mode = "parallel" if len(stage) > 1 else ("conditional" if stage[0].condition else
                                                   "transform" if stage[0].step.op in TRANSFORMERS else "step")
        click.echo(f"  {i}. {mode}: {inert(' & '.join(b.label for b in stage))}")


@pipeline.command("list")
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def pipeline_list(ctx, as_json: bool) -> None:
    """Named workflows (the built-in ones and those in the config's [workflows]), then the
    transformers a spec can use between operations."""
    from coda_tui.core.spec import BUILTIN_WORKFLOWS, workflows
    from coda_tui.core.transformers import TRANSFORMERS

    rt = runtime(ctx)
    flows = workflows(rt.config)
    if as_json:
        print_json([{"name": n, "spec": s, "source": "config" if n in rt.config.workflows else "built-in"}
                    for n, s in sorted(flows.items())]
                   + [{"name": t.name, "spec": None, "source": "transformer", "help": t.help,
                       "params": [p.name for p in t.params]} for t in TRANSFORMERS.values()])
        return
    for name, text in sorted(flows.items()):
        source = "config" if name in rt.config.workflows else "built-in"
        click.echo(f"{inert(name):<22} {inert(text)}" + ("" if name in BUILTIN_WORKFLOWS and source == "built-in" else f"  ({source})"))
    click.echo("\ntransformers (local steps between operations, e.g. 'analyze | extract_insights'):")
    for t in TRANSFORMERS.values():
        click.echo(f"{t.name:<22} {_params(t)}\n{'':<22} {t.help}")
