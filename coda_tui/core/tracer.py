"""Times the stages of one turn on a shared clock and publishes them as they happen."""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Callable, Iterator

from coda_tui.core.events import Event, StageFinished, StageStarted
from coda_tui.store.traces import StageRecord


class Tracer:
    def __init__(self, publish: Callable[[Event], None], redact: Callable[[str], str] = lambda s: s) -> None:
        self._publish = publish
        self._redact = redact
        self._t0 = time.perf_counter()
        self.stages: list[StageRecord] = []

    def now_ms(self) -> float:
        return (time.perf_counter() - self._t0) * 1000

    @contextmanager
    def stage(self, name: str) -> Iterator[StageRecord]:
        """Time a stage; the body fills in `summary` and `detail` of the record it gets."""
        record = StageRecord(name=name, start_ms=self.now_ms())
        self.stages.append(record)
        self._publish(StageStarted(name, record.start_ms))
        try:
            yield record
        finally:
            record.duration_ms = self.now_ms() - record.start_ms
            record.summary = self._redact(record.summary) or ""
            self._publish(StageFinished(name, record.start_ms, record.duration_ms, record.summary, dict(record.detail)))
