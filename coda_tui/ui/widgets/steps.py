"""The steps of a running pipeline, each with its own stages, live: one line a step
(status, time, what it found) and one line of its stages as they start and finish.
Parallel steps are drawn as the branches of their stage (a ┬/├ mark)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import ClassVar

from rich.text import Text
from textual.widget import Widget

from coda_tui.textsafe import inert

MARKS = {"running": "▶", "complete": "✓", "skipped": "·", "not run": "·", "error": "✗", "partial": "✗",
         "cancelled": "■", "waiting": " "}


@dataclass
class StepLine:
    stage: int
    label: str
    status: str = "waiting"
    started_at: float | None = None
    duration_ms: float | None = None
    summary: str = ""
    # (stage name, duration ms or None while running)
    stages: list[tuple[str, float | None]] = field(default_factory=list)


class StepsView(Widget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"steps--running", "steps--dim", "steps--error", "steps--ok"}
    DEFAULT_CSS = """
    StepsView { height: auto; max-height: 14; text-wrap: nowrap; text-overflow: ellipsis; margin: 1 0 0 0; }
    StepsView > .steps--running { color: $warning; }
    StepsView > .steps--dim { color: $text-muted; }
    StepsView > .steps--error { color: $error; }
    StepsView > .steps--ok { color: $success; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.title = ""
        self.status = ""
        self.steps: list[StepLine] = []
        self.display = False

    def start(self, spec: str, steps: list[tuple[int, str]]) -> None:
        self.title, self.status = spec, "running"
        self.steps = [StepLine(stage, label) for stage, label in steps]
        self.display = True
        self.refresh(layout=True)

    def step_started(self, index: int, label: str) -> None:
        if 0 <= index < len(self.steps):
            line = self.steps[index]
            line.status, line.label, line.started_at = "running", label, time.perf_counter()
            self.refresh()

    def stage_started(self, index: int, name: str) -> None:
        if 0 <= index < len(self.steps):
            self.steps[index].stages.append((name, None))
            self.refresh()

    def stage_finished(self, index: int, name: str, duration_ms: float) -> None:
        if 0 <= index < len(self.steps):
            stages = self.steps[index].stages
            for i in range(len(stages) - 1, -1, -1):
                if stages[i][0] == name and stages[i][1] is None:
                    stages[i] = (name, duration_ms)
                    break
            self.refresh()

    def step_finished(self, index: int, status: str, duration_ms: float, summary: str) -> None:
        if 0 <= index < len(self.steps):
            line = self.steps[index]
            line.status, line.duration_ms, line.summary = status, duration_ms, summary
            self.refresh(layout=True)

    def finish(self, status: str) -> None:
        self.status = status
        self.refresh()

    def get_content_height(self, container, viewport, width: int) -> int:
        return 1 + sum(2 if s.stages else 1 for s in self.steps)

    def render(self) -> Text:
        width = max(20, self.size.width)
        dim = self.get_component_rich_style("steps--dim")
        styles = {"running": self.get_component_rich_style("steps--running"),
                  "complete": self.get_component_rich_style("steps--ok"),
                  "error": self.get_component_rich_style("steps--error"),
                  "partial": self.get_component_rich_style("steps--error")}
        out = Text(no_wrap=True, overflow="ellipsis")
        out.append(inert(f"pipeline · {self.status} · {self.title}")[: width - 1] + "\n", style="bold")
        sizes = {}
        for s in self.steps:
            sizes[s.stage] = sizes.get(s.stage, 0) + 1
        seen: dict[int, int] = {}
        for n, s in enumerate(self.steps, 1):
            k = seen[s.stage] = seen.get(s.stage, 0) + 1
            branch = " " if sizes[s.stage] == 1 else ("┬" if k == 1 else "├")
            elapsed = s.duration_ms if s.duration_ms is not None else (
                (time.perf_counter() - s.started_at) * 1000 if s.started_at else None)
            took = f" {elapsed / 1000:.1f}s" if elapsed is not None else ""
            out.append(f"{branch}{MARKS.get(s.status, '?')} {n} ", style=styles.get(s.status, dim))
            out.append(inert(s.label))
            out.append(f" · {s.status}{took}", style=styles.get(s.status, dim))
            if s.summary and s.status != "running":
                out.append(" · " + inert(s.summary), style=dim)
            out.append("\n")
            if s.stages:
                parts = [f"{name} {ms:,.0f}" if ms is not None else f"{name}…" for name, ms in s.stages]
                out.append("    " + " → ".join(parts) + (" ms" if all(ms is not None for _, ms in s.stages) else "") + "\n",
                           style=dim)
        out.rstrip()
        return out
