"""`coda backups list|prune`: the copies kept for undo and applies, and bounding them."""

from __future__ import annotations

import click

from coda_tui.cli.common import common_options, print_json, runtime
from coda_tui.textsafe import inert


def _mb(size: int) -> str:
    return f"{size / 2**20:,.1f} MB"


def _limits_line(limits) -> str:
    age = f"{limits.keep_days} days" if limits.keep_days else "no age limit"
    size = f"{limits.max_mb:g} MB in all" if limits.max_mb else "no size limit"
    return f"limits: {age}, {size} ([backups] keep_days, max_mb); each project's last turn is always kept"


@click.group()
def backups() -> None:
    """The backups of files coda wrote (for undo, and operations' applies), and pruning them."""


@backups.command("list")
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def list_backups(ctx, as_json: bool) -> None:
    """Each project's backups: how many, their size, the oldest and newest, and the turns undo can take back."""
    from coda_tui.context.writes import backups_dir
    from coda_tui.tools.backups import survey

    limits = runtime(ctx).config.backups
    projects = survey()
    rows = [{"project": p.name, "backups": len(p.folders), "files": sum(f.files for f in p.folders), "bytes": p.bytes,
             "oldest": p.folders[0].made.isoformat() if p.folders else None,
             "newest": p.folders[-1].made.isoformat() if p.folders else None,
             "undo_turns": p.turns, "pruned": p.pruned} for p in projects]
    if as_json:
        print_json({"dir": str(backups_dir()), "keep_days": limits.keep_days, "max_mb": limits.max_mb,
                    "bytes": sum(r["bytes"] for r in rows), "projects": rows})
        return
    if not rows:
        click.echo(f"no backups in {inert(str(backups_dir()))}")
        click.echo(_limits_line(limits))
        return
    name_w = max(len("project"), *(len(inert(r["project"])) for r in rows))
    click.echo(f"{'project':<{name_w}}  {'backups':>7}  {'size':>10}  {'oldest':<16}  {'newest':<16}  {'undo':>4}")
    for p, r in zip(projects, rows):
        oldest = p.folders[0].made.astimezone().strftime("%Y-%m-%d %H:%M") if p.folders else "-"
        newest = p.folders[-1].made.astimezone().strftime("%Y-%m-%d %H:%M") if p.folders else "-"
        click.echo(f"{inert(r['project']):<{name_w}}  {r['backups']:>7}  {_mb(r['bytes']):>10}  {oldest:<16}  "
                   f"{newest:<16}  {r['undo_turns']:>4}")
    total = sum(r["bytes"] for r in rows)
    click.echo(f"{sum(r['backups'] for r in rows)} backup(s), {_mb(total)} in {inert(str(backups_dir()))}")
    click.echo(_limits_line(limits))


@backups.command("prune")
@click.option("--dry-run", is_flag=True, help="Say what would go; remove nothing.")
@click.option("--json", "as_json", is_flag=True)
@common_options
@click.pass_context
def prune_backups(ctx, dry_run: bool, as_json: bool) -> None:
    """Remove the backups past [backups] keep_days or max_mb now (coda also does, once a
    day, after a tool writes), and the undo steps that needed them."""
    from coda_tui.tools.backups import prune

    limits = runtime(ctx).config.backups
    done = prune(limits, dry_run=dry_run)
    if as_json:
        print_json({"dry_run": dry_run, "removed": [str(f.path) for f in done.removed], "freed_bytes": done.freed_bytes,
                    "kept": len(done.kept), "kept_bytes": done.kept_bytes, "undo_turns_dropped": done.turns_dropped})
        return
    verb = "would remove" if dry_run else "removed"
    click.echo(f"{verb} {len(done.removed)} backup(s), {_mb(done.freed_bytes)}; {len(done.kept)} kept, "
               f"{_mb(done.kept_bytes)}; {done.turns_dropped} older turn(s) {'would be' if dry_run else 'are'} "
               "no longer undoable")
    if dry_run:
        for f in done.removed:
            click.echo(f"  {inert(f.project)}/{f.path.name}  {_mb(f.bytes)}")
    click.echo(_limits_line(limits))
