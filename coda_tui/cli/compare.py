"""`coda compare PROMPT --with TARGET ...`: the same question to several models, one table
of their timings, tokens, cost and outcome, then each answer (core/compare.py); `--list`
shows the stored comparisons."""

from __future__ import annotations

import asyncio

import click

from coda_tui.cli.common import EXIT_USAGE, common_options, print_json, runtime
from coda_tui.cli.stats import text_table
from coda_tui.errors import CodaError
from coda_tui.textsafe import inert


@click.command()
@click.argument("prompt", nargs=-1)
@click.option("--with", "targets", multiple=True, metavar="PROVIDER[:MODEL]",
              help="A model to ask (repeat it: --with local --with openai:gpt-4o-mini).")
@click.option("--list", "listing", is_flag=True, help="List the stored comparisons instead.")
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def compare(ctx, prompt: tuple[str, ...], targets: tuple[str, ...], listing: bool, as_json: bool) -> None:
    """Ask several models the same question with the same context (tools off), and compare
    their first-token time, total time, speed, tokens, cost and answers."""
    rt = runtime(ctx)
    if listing:
        _list(rt, as_json)
        return
    text = " ".join(prompt).strip()
    if not text:
        raise CodaError("no question given: coda compare 'your question' --with local --with openai",
                        exit_code=EXIT_USAGE)
    if len(targets) < 2:
        raise CodaError("compare needs at least two models: --with local --with openai:gpt-4o-mini",
                        exit_code=EXIT_USAGE)
    from coda_tui.core.compare import COLUMNS, Comparer, table_rows
    from coda_tui.core.compare import targets as parse_targets

    chosen = parse_targets(rt.config, rt.providers, list(targets))  # an unknown provider stops here
    comparer = Comparer(rt.turns)

    async def go():
        try:
            session, question_id = comparer.question_session(rt.redact.exact(text))
            return await comparer.run(rt.redact.exact(text), chosen, session, question_id)
        finally:
            await rt.aclose()

    result = asyncio.run(go())
    if as_json:
        print_json(result.to_dict())
    else:
        click.echo(f"comparison #{result.id} · session #{result.session.id} · tools off")
        for line in text_table([h for h, _ in COLUMNS], [[inert(c) for c in r] for r in table_rows(result.answers)]):
            click.echo(line)
        for answer in result.answers:
            click.echo(f"\n── {inert(answer.target.label)} ({inert(answer.outcome)}) ──")
            click.echo(inert(answer.text) if answer.text else "(no answer)")
    if not any(a.status == "complete" for a in result.answers):
        ctx.exit(1)


def _list(rt, as_json: bool) -> None:
    found = rt.store.comparisons.list()
    if as_json:
        print_json([{"id": c.id, "prompt": c.prompt, "created_at": c.created_at, "session_id": c.session_id,
                     "answers": [a.__dict__ for a in c.answers]} for c in found])
        return
    if not found:
        click.echo("no comparisons stored: coda compare 'a question' --with local --with openai")
        return
    for c in found:
        who = ", ".join(f"{a.provider}:{a.model or '?'} {a.status}" for a in c.answers)
        question = " ".join(c.prompt.split())
        click.echo(f"#{c.id}  {c.created_at[:16]}  {inert(question[:60])}  [{inert(who)}]")
