"""The --stream text of a run: a header per step, parallel steps in blocks of their own
however their tokens interleave, transformers' output whole, nothing lost on a cancel."""

from __future__ import annotations

from coda_tui.core.chain import StepResult
from coda_tui.core.chain_events import (
    ChainFinished,
    ChainStarted,
    StepEvent,
    StepFinished,
    StepStarted,
)
from coda_tui.core.chain_stream import ChainStream
from coda_tui.core.events import TokenChunk
from coda_tui.core.operations import OPERATIONS
from coda_tui.core.transformers import TRANSFORMERS

RUN = 7


def tokens(index: int, *texts: str) -> list:
    return [StepEvent(RUN, index, TokenChunk(t, n, 1.0)) for n, t in enumerate(texts, 1)]


def finished(index: int, stage: int, label: str, text: str = "", status: str = "complete", op: str = "explain") -> StepFinished:
    operation = OPERATIONS[op]
    result = operation.parse(text, operation.with_defaults({}), None) if text else None
    return StepFinished(RUN, StepResult(index, stage, label, status, ran=label, result=result))


def play(events: list) -> list[str]:
    writes: list[str] = []
    stream = ChainStream(writes.append)
    for event in events:
        stream.feed(event)
    return writes


def test_parallel_steps_stream_into_their_own_blocks():
    a = "line a1\nline a2\nline a3"
    b = "line b1\nline b2\n"
    code = TRANSFORMERS["extract_code"].run({}, [OPERATIONS["explain"].parse("Use:\n```py\nsum(x)\n```", {}, None)])
    events = [
        ChainStarted(RUN, "explain & explain level:basic | extract_code", [(0, "explain"), (0, "explain level:basic"),
                                                                            (1, "extract_code")]),
        StepStarted(RUN, 0, "explain"), StepStarted(RUN, 1, "explain level:basic"),
        # The two answers' tokens arrive interleaved, the second step's first, and it ends first.
        *[e for pair in zip(tokens(1, "line b1\n", "line b2\n"), tokens(0, "line a1\nli", "ne a2\n"), strict=True) for e in pair],
        finished(1, 0, "explain level:basic", b),
        *tokens(0, "line a3"),
        # Another run's events on the same bus are not this stream's.
        StepEvent(RUN + 1, 0, TokenChunk("stray", 1, 1.0)),
        finished(0, 0, "explain", a),
        StepStarted(RUN, 2, "extract_code"),
        StepFinished(RUN, StepResult(2, 1, "extract_code", "complete", ran="extract_code", result=code)),
        ChainFinished(RUN, None),
    ]
    writes = play(events)
    out = "".join(writes)
    assert out == (
        "## 1 · explain\n\nline a1\nline a2\nline a3\n\n_complete; 23 chars_\n\n"
        "## 2 · explain level:basic\n\nline b1\nline b2\n\n_complete; 16 chars_\n\n"
        "## 3 · extract_code\n\n```py\nsum(x)\n```\n_from explain_\n\n_complete; 1 code block(s)_\n"
    )
    # The first step is written as its tokens come; the second, held back, comes whole after it.
    assert writes[:3] == ["## 1 · explain\n\n", "line a1\nli", "ne a2\n"]


def test_a_single_step_has_no_header_and_a_skipped_branch_says_why():
    out = "".join(play([ChainStarted(RUN, "explain", [(0, "explain")]), StepStarted(RUN, 0, "explain"),
                        *tokens(0, "It adds."), finished(0, 0, "explain", "It adds."), ChainFinished(RUN, None)]))
    assert out == "It adds.\n\n_complete; 8 chars_\n"
    skipped = StepFinished(RUN, StepResult(1, 1, "if:quality<0.5 refactor", "skipped", note="quality 0.90 is not < 0.5"))
    out = "".join(play([ChainStarted(RUN, "s", [(0, "analyze"), (1, "if:quality<0.5 refactor")]), skipped,
                        ChainFinished(RUN, None)]))
    assert out == "## 2 · if:quality<0.5 refactor\n\n_skipped; quality 0.90 is not < 0.5_\n"


def test_a_cancelled_run_still_shows_what_each_step_said():
    out = "".join(play([ChainStarted(RUN, "s", [(0, "explain"), (0, "test")]), StepStarted(RUN, 0, "explain"),
                        StepStarted(RUN, 1, "test"), *tokens(1, "def test_"), *tokens(0, "It ad"),
                        ChainFinished(RUN, None)]))
    assert out == "## 1 · explain\n\nIt ad\n\n## 2 · test\n\ndef test_\n"
