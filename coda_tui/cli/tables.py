"""Plain-text tables for the CLI. Every cell that came from the database is inert."""

from __future__ import annotations

from coda_tui.context.report import files_lines
from coda_tui.core.choice import label
from coda_tui.providers.pricing import CostTotal, stage_costs
from coda_tui.store.sessions import Session
from coda_tui.store.traces import TraceRecord
from coda_tui.textsafe import inert

BAR_WIDTH = 30


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def stage_table(trace: TraceRecord) -> str:
    """A waterfall: each stage's bar placed on the turn's shared time axis."""
    total = trace.total_ms or max((s.start_ms + (s.duration_ms or 0) for s in trace.stages), default=0) or 1
    lines = [
        f"trace {trace.id} · {inert(label(trace.provider, trace.model))} · {inert(trace.status)}"
        f" · first token {_ms(trace.ttft_ms)} ms · total {_ms(trace.total_ms)} ms"
        + (f" · {trace.tokens_per_s:.1f} tok/s" if trace.tokens_per_s else "")
        + (f" · {cost}" if (cost := CostTotal.of(stage_costs(trace.stages)).label()) else ""),
    ]
    names = stage_names(trace.stages)
    # A pipeline's stages are its steps ("2.summarize"), longer than a turn's stage names.
    name_w = max([8] + [len(n) for n in names])
    lines.append(f"{'stage':<{name_w}} {'start ms':>9} {'ms':>9}  {'':<{BAR_WIDTH}}  summary")
    for s, name in zip(trace.stages, names):
        dur = s.duration_ms or 0
        lead = int(s.start_ms / total * BAR_WIDTH)
        width = max(1, round(dur / total * BAR_WIDTH))
        bar = (" " * lead + "█" * width)[:BAR_WIDTH]
        lines.append(f"{name:<{name_w}} {_ms(s.start_ms):>9} {_ms(dur):>9}  {bar:<{BAR_WIDTH}}  {inert(s.summary)}")
        if s.name == "context":
            indent = " " * (name_w + 2 * 10 + BAR_WIDTH + 4)
            lines.extend(f"{indent}{inert(line)}" for line in files_lines(s.detail))
    if trace.error:
        lines.append(f"error: {inert(trace.error)}")
    return "\n".join(lines)


def stage_names(stages) -> list[str]:
    """Stage names as the table shows them: a tool loop's model rounds numbered (`llm 2`),
    and each tool call under the round that asked for it (` └ tool`)."""
    rounds = sum(1 for s in stages if s.name == "llm")
    out = []
    for s in stages:
        if s.name == "llm" and rounds > 1 and "step" in s.detail:
            out.append(f"llm {s.detail['step']}")
        elif s.name == "tool":
            out.append(" └ tool")
        else:
            out.append(inert(s.name))
    return out


def traces_table(traces: list[TraceRecord]) -> str:
    lines = [f"{'id':>5}  {'started':<19}  {'provider/model':<40} {'status':<9} {'ttft ms':>9} {'total ms':>10} {'tok/s':>7}  cost"]
    for t in traces:
        pm = label(t.provider, t.model)[:40]
        tps = f"{t.tokens_per_s:.1f}" if t.tokens_per_s else "-"
        lines.append(
            f"{t.id:>5}  {inert(t.started_at[:19].replace('T', ' ')):<19}  {inert(pm):<40} {inert(t.status):<9} {_ms(t.ttft_ms):>9} {_ms(t.total_ms):>10} {tps:>7}"
            f"  {CostTotal.of(stage_costs(t.stages)).label() or '-'}"
        )
    return "\n".join(lines)


def sessions_table(rows: list[Session]) -> str:
    lines = [f"{'id':>5}  {'updated':<19}  {'msgs':>5}  {'provider/model':<32}  name"]
    for s in rows:
        pm = label(s.provider, s.model) if s.provider else "-"
        lines.append(
            f"{s.id:>5}  {inert(s.updated_at[:19].replace('T', ' ')):<19}  {s.message_count:>5}  {inert(pm)[:32]:<32}  {inert(s.name)}"
        )
    return "\n".join(lines)
