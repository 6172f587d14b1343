"""Times the stages of one turn on a shared clock and publishes them as they happen."""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Callable, Iterator

from coda_tui.core.events import Event, StageFinished, StageStarted
from coda_tui.store.traces import StageRecord


class Tracer:
    def __init__(
        self,
        publish: Callable[[Event], None],
        redact: Callable[[str], str] = lambda s: s,
        t0: float | None = None,
    ) -> None:
        """`t0` (a perf_counter value) starts the clock earlier than now: a spoken turn's
        clock starts when recording began."""
        self._publish = publish
        self._redact = redact
        self._t0 = time.perf_counter() if t0 is None else t0
        self.stages: list[StageRecord] = []

    def now_ms(self) -> float:
        return (time.perf_counter() - self._t0) * 1000

    def ms_at(self, perf: float) -> float:
        """A perf_counter instant on this tracer's clock."""
        return (perf - self._t0) * 1000

    def begin(self, name: str, start_ms: float | None = None) -> StageRecord:
        """Open a stage (now, or at `start_ms` when it began earlier); `end` closes it."""
        record = StageRecord(name=name, start_ms=self.now_ms() if start_ms is None else start_ms)
        self.stages.append(record)
        self._publish(StageStarted(name, record.start_ms))
        return record

    def end(self, record: StageRecord, end_ms: float | None = None) -> None:
        record.duration_ms = (self.now_ms() if end_ms is None else end_ms) - record.start_ms
        record.summary = self._redact(record.summary) or ""
        self._publish(StageFinished(record.name, record.start_ms, record.duration_ms, record.summary, dict(record.detail)))

    def replay(self, stages: list[StageRecord]) -> None:
        """Take in stages timed before this tracer existed (on the same clock), and publish them."""
        for s in stages:
            record = self.begin(s.name, s.start_ms)
            record.summary, record.detail = s.summary, dict(s.detail)
            self.end(record, s.start_ms + (s.duration_ms or 0.0))

    @contextmanager
    def stage(self, name: str, start_ms: float | None = None) -> Iterator[StageRecord]:
        """Time a stage (from now, or from `start_ms`); the body fills in `summary` and
        `detail` of the record it gets."""
        record = self.begin(name, start_ms)
        try:
            yield record
        finally:
            self.end(record)
