"""Coding operations: each a prompt template plus a tolerant reader of its answer."""

from __future__ import annotations

from coda_tui.core.operations.analyze import Analyze
from coda_tui.core.operations.base import Operation, OperationResult, Param, Subject
from coda_tui.core.operations.explain import Explain
from coda_tui.core.operations.generate import Generate
from coda_tui.core.operations.refactor import Refactor
from coda_tui.core.operations.review import Review, ReviewError
from coda_tui.core.operations.testgen import Test

OPERATIONS: dict[str, Operation] = {op.name: op for op in (Analyze(), Explain(), Refactor(), Generate(), Test(), Review())}

__all__ = ["OPERATIONS", "Operation", "OperationResult", "Param", "ReviewError", "Subject"]
