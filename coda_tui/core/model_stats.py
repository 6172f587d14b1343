"""Per provider/model statistics from the stored traces and ratings: how many answers, how
often they failed, how quickly the first token came and how fast the rest followed, the
tokens and what they cost, and the share the user rated up. `coda stats` prints them, the
app shows them, and roles may order their chains by them (`[roles] prefer`).

One trace is one answer, counted for the provider/model that answered (or failed last).
"Failed" is an error or a partial answer (a cut stream); a cancelled turn is an answer but
not a failure. Answers served from coda's response cache are counted but leave the timing
figures alone: a cached 2 ms first token says nothing about the model. A cost is the sum of
the llm stages' recorded costs; one unknown price makes the total unknown (see CostTotal).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from coda_tui.providers.pricing import CACHED, CostTotal
from coda_tui.store import Store
from coda_tui.tools.stats import percentile

FAILED = ("error", "partial")


@dataclass
class ModelStat:
    provider: str
    model: str
    answers: int = 0
    failed: int = 0
    ttft_median_ms: float | None = None
    ttft_p95_ms: float | None = None
    tps_median: float | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    cost: CostTotal = field(default_factory=CostTotal)
    rated: int = 0
    rated_up: int = 0

    @property
    def target(self) -> str:
        return f"{self.provider}:{self.model}"

    @property
    def failure_rate(self) -> float | None:
        return self.failed / self.answers if self.answers else None

    @property
    def up_share(self) -> float | None:
        return self.rated_up / self.rated if self.rated else None

    @property
    def cost_per_answer(self) -> float | None:
        """USD per answer; None when any price was unknown or nothing was recorded."""
        usd = self.cost.to_dict()["usd"]
        return None if usd is None or not self.answers else usd / self.answers

    def to_dict(self) -> dict:
        return {"provider": self.provider, "model": self.model, "answers": self.answers, "failed": self.failed,
                "failure_rate": self.failure_rate, "ttft_median_ms": self.ttft_median_ms,
                "ttft_p95_ms": self.ttft_p95_ms, "tokens_per_s_median": self.tps_median,
                "tokens_in": self.tokens_in, "tokens_out": self.tokens_out,
                "cost": {**self.cost.to_dict(), "label": self.cost.label() or "-"},
                "rated": self.rated, "rated_up": self.rated_up, "up_share": self.up_share}


@dataclass
class AnswerRow:
    """One stored answer as the statistics read it."""

    provider: str
    model: str
    status: str
    ttft_ms: float | None
    tokens_per_s: float | None
    rating: int | None
    costs: list[dict]


def answer_rows(store: Store, since: str | None = None) -> list[AnswerRow]:
    """Every trace that names who answered, started at or after `since` (ISO, as traces keep
    it; None: all), with its answer's rating and its llm stages' costs."""
    conn = store.db.conn
    where = "t.provider IS NOT NULL AND (? IS NULL OR t.started_at >= ?)"
    rows = conn.execute(
        "SELECT t.id, t.provider, coalesce(t.model, ''), t.status, t.ttft_ms, t.tokens_per_s, m.rating"
        f" FROM traces t LEFT JOIN messages m ON m.id = t.message_id WHERE {where} ORDER BY t.id",
        [since, since],
    ).fetchall()
    costs: dict[int, list[dict]] = {}
    for trace_id, detail in conn.execute(
        f"SELECT s.trace_id, s.detail FROM trace_stages s JOIN traces t ON t.id = s.trace_id"
        f" WHERE s.name = 'llm' AND {where} ORDER BY s.trace_id, s.seq",
        [since, since],
    ):
        try:
            cost = json.loads(detail or "{}").get("cost")
        except (ValueError, AttributeError):
            cost = None  # a damaged row costs nothing we can know of
        if isinstance(cost, dict):
            costs.setdefault(trace_id, []).append(cost)
    return [AnswerRow(p, m, s, ttft, tps, rating, costs.get(tid, [])) for tid, p, m, s, ttft, tps, rating in rows]


def model_stats(rows: list[AnswerRow]) -> list[ModelStat]:
    """Per provider/model, most answers first."""
    import statistics  # here: with decimal and fractions, ~12 ms on every turn's import path

    stats: dict[tuple[str, str], ModelStat] = {}
    ttfts: dict[tuple[str, str], list[float]] = {}
    speeds: dict[tuple[str, str], list[float]] = {}
    for row in rows:
        key = (row.provider, row.model)
        stat = stats.setdefault(key, ModelStat(*key))
        stat.answers += 1
        stat.failed += row.status in FAILED
        for cost in row.costs:
            stat.cost.add(cost)
            stat.tokens_in += int(cost.get("input_tokens") or 0)
            stat.tokens_out += int(cost.get("output_tokens") or 0)
        if row.rating is not None:
            stat.rated += 1
            stat.rated_up += row.rating > 0
        cached = bool(row.costs) and all(c.get("basis") == CACHED for c in row.costs)
        if not cached:
            if row.ttft_ms is not None:
                ttfts.setdefault(key, []).append(row.ttft_ms)
            if row.tokens_per_s is not None:
                speeds.setdefault(key, []).append(row.tokens_per_s)
    for key, values in ttfts.items():
        values.sort()
        stats[key].ttft_median_ms = statistics.median(values)
        stats[key].ttft_p95_ms = percentile(values, 0.95)
    for key, values in speeds.items():
        stats[key].tps_median = statistics.median(values)
    return sorted(stats.values(), key=lambda s: (-s.answers, s.provider, s.model))


def stats_of(store: Store, since: str | None = None) -> list[ModelStat]:
    return model_stats(answer_rows(store, since))


# The table both `coda stats` and the app show: (heading, cell of a ModelStat).
def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


COLUMNS: list[tuple[str, object]] = [
    ("provider:model", lambda s: s.target),
    ("answers", lambda s: str(s.answers)),
    ("failed", lambda s: _share(s.failure_rate)),
    ("ttft med ms", lambda s: _ms(s.ttft_median_ms)),
    ("ttft p95 ms", lambda s: _ms(s.ttft_p95_ms)),
    ("tok/s med", lambda s: "-" if s.tps_median is None else f"{s.tps_median:.1f}"),
    ("tokens in/out", lambda s: f"{s.tokens_in:,}/{s.tokens_out:,}"),
    ("cost", lambda s: s.cost.label() or "-"),
    ("rated up", lambda s: "-" if not s.rated else f"{_share(s.up_share)} of {s.rated}"),
]


def table_rows(stats: list[ModelStat]) -> list[list[str]]:
    """Each model's cells, in COLUMNS order (text only: the caller makes it inert)."""
    return [[cell(s) for _, cell in COLUMNS] for s in stats]
