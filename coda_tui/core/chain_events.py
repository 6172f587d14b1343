"""What a pipeline run (an operation chain) publishes on the core's bus, next to the turn
events of core.events, and the results those events carry. Kept apart from core.chain so a
subscriber (the app, the CLI) can read them without importing the runner and the
operations at startup."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coda_tui.core.operations import OperationResult
    from coda_tui.core.spec import Spec
    from coda_tui.store.sessions import Session
    from coda_tui.store.traces import TraceRecord


@dataclass(frozen=True)
class ChainStarted:
    run_id: int
    spec: str
    steps: list[tuple[int, str]]  # (stage, label) of each branch, in order


@dataclass(frozen=True)
class StepStarted:
    run_id: int
    index: int
    label: str  # what runs: the step, or the else step


@dataclass(frozen=True)
class StepEvent:
    """An event of a step's own turn (StageStarted, TokenChunk, TurnFinished…)."""

    run_id: int
    index: int
    event: object


@dataclass(frozen=True)
class StepFinished:
    run_id: int
    step: StepResult


@dataclass(frozen=True)
class ChainFinished:
    run_id: int
    result: ChainResult


@dataclass
class StepResult:
    index: int  # the branch's place in the spec, counting from 0
    stage: int
    label: str  # the branch as written
    status: str  # complete | partial | error | cancelled | skipped | not run
    ran: str | None = None  # the step that ran (the else step when the condition was false)
    result: OperationResult | None = None
    trace_id: int | None = None
    start_ms: float = 0.0
    duration_ms: float = 0.0
    note: str = ""

    def summary(self) -> str:
        parts = [self.status]
        if self.result is not None:
            parts.append(self.result.summary())
        if self.note:
            parts.append(self.note)
        if self.trace_id:
            parts.append(f"trace #{self.trace_id}")
        return "; ".join(parts)

    def to_dict(self) -> dict:
        return {"index": self.index, "stage": self.stage, "label": self.label, "ran": self.ran, "status": self.status,
                "note": self.note, "trace_id": self.trace_id, "start_ms": round(self.start_ms, 3),
                "duration_ms": round(self.duration_ms, 3), "result": self.result.to_dict() if self.result else None}


@dataclass
class ChainResult:
    spec: Spec
    status: str
    session: Session
    steps: list[StepResult] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    trace: TraceRecord | None = None

    def to_dict(self) -> dict:
        return {"spec": self.spec.canonical(), "workflow": self.spec.workflow, "status": self.status,
                "session": {"id": self.session.id, "name": self.session.name}, "scores": self.scores,
                "trace_id": self.trace.id if self.trace else None, "steps": [s.to_dict() for s in self.steps]}

    def to_markdown(self) -> str:
        from coda_tui.core.spec import LATEST_SCORE  # loaded already: a spec was run

        last = self.steps[-1] if self.steps else None
        if (last is not None and last.result is not None and last.result.operation == "format_markdown"
                and [s.stage for s in self.steps].count(last.stage) == 1):
            return last.result.text.rstrip() + "\n"  # the spec made its own report
        out = [f"# pipeline: {self.spec.canonical()}", f"status: {self.status}"
               + (f" · scores: {', '.join(f'{k} {v:.2f}' for k, v in self.scores.items() if k != LATEST_SCORE)}"
                  if self.scores else "")]
        for s in self.steps:
            if s.result is not None:
                out.append(s.result.to_markdown().rstrip())
            else:
                out.append(f"## {s.label}\n\n_{s.status}{': ' + s.note if s.note else ''}_")
        return "\n\n".join(out) + "\n"
