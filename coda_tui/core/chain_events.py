"""Events a pipeline run publishes on the core's bus, next to the turn events of
core.events. Kept apart from core.chain so a subscriber (the app) can tell them apart
without importing the runner and the operations at startup."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coda_tui.core.chain import ChainResult, StepResult


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
