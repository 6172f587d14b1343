"""`coda models` and `coda doctor`: what each provider offers, and whether everything coda
needs works here."""

from __future__ import annotations

import asyncio
from dataclasses import asdict

import click

from coda_tui import paths
from coda_tui.cli.common import common_options, opt, print_json, runtime
from coda_tui.errors import CodaError
from coda_tui.textsafe import inert


@click.command()
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def models(ctx, as_json: bool) -> None:
    """Models each provider offers (or only --provider's)."""
    rt = runtime(ctx)
    only = opt(ctx, "provider")
    names = [rt.config.provider(only).name] if only else sorted(rt.config.providers)

    async def gather():
        async def one(name):
            try:
                prov = rt.providers.get(name)
                return name, prov.default_model, await prov.list_models(), None
            except CodaError as exc:
                return name, None, [], rt.redact(str(exc))

        try:
            return await asyncio.gather(*(one(n) for n in names))
        finally:
            await rt.aclose()

    results = asyncio.run(gather())
    if as_json:
        print_json([{"provider": n, "default": d, "models": m, "error": e} for n, d, m, e in results])
    else:
        for name, default, found, err in results:
            click.echo(f"{inert(name)}:")
            if err:
                click.echo(f"  unavailable: {inert(err)}")
            for m in found:
                click.echo(f"  {inert(m)}{'  (default)' if m == default else ''}")
    if only and results[0][3]:
        ctx.exit(1)


@click.command()
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def doctor(ctx, as_json: bool) -> None:
    """Check config, database, providers, MCP servers, local and speech models, audio input."""
    from coda_tui.core import doctor as dr

    rt = runtime(ctx)
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
    checks += asyncio.run(dr.check_mcp(rt.config, rt.project.root))
    checks += dr.check_resilience(rt.config, lambda: rt.cache)
    checks.append(dr.check_local_model())
    checks += dr.check_speech(rt.config.voice)
    default_ok = next(c.ok for c in provider_checks if c.name.endswith("(default)"))
    if as_json:
        print_json({"ok": default_ok, "checks": [{**asdict(c), "detail": rt.redact(c.detail)} for c in checks]})
    else:
        marks = {True: "ok  ", False: "FAIL", None: "--  "}
        for c in checks:
            click.echo(f"{marks[c.ok]}  {inert(c.name):<24} {inert(rt.redact(c.detail) or '')}")
        if not default_ok:
            click.echo(f"\nthe default provider '{inert(rt.config.general.provider)}' cannot answer", err=True)
    if not default_ok:
        ctx.exit(1)
