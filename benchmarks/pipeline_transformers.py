"""Time each pipeline transformer on results the size real ones reach: two analyses with 25
issues and 10 recommendations each, and long Markdown answers with code (from answers.py),
a 6-step history for format_markdown. They run on the event loop between model calls, so
they must stay in the low milliseconds. Target: ≤ 5 ms median, each."""

from __future__ import annotations

import json
import random
import time

from answers import answer
from common import median, p95, report

from coda_tui.core.chain import StepResult
from coda_tui.core.operations import OPERATIONS
from coda_tui.core.transformers import TRANSFORMERS

ROUNDS = 200


def results() -> tuple[list, list]:
    rng = random.Random(3)
    analyses = []
    for area in ("security", "performance"):
        body = {"score": 0.6, "issues": [{"line": i, "severity": rng.choice(["low", "medium", "high"]),
                                          "message": f"problem {i} in {area}"} for i in range(25)],
                "recommendations": [f"recommendation {i}" for i in range(10)]}
        op = OPERATIONS["analyze"]
        analyses.append(op.parse("```json\n" + json.dumps(body) + "\n```", op.with_defaults({"type": area}), None))
    prose = [OPERATIONS[name].parse(answer(rng, 12), {}, None) for name in ("explain", "test")]
    return analyses, prose


def main() -> None:
    analyses, prose = results()
    everything = analyses + prose
    history = [StepResult(i, i, r.operation, "complete", result=r) for i, r in enumerate(everything + analyses)]
    inputs = {"extract_code": ({}, prose), "extract_insights": ({}, analyses), "combine_results": ({}, everything),
              "filter_suggestions": ({"severity": "high", "kind": "issue"}, analyses),
              "format_markdown": ({"title": "report"}, analyses)}
    for name, (params, previous) in inputs.items():
        tf = TRANSFORMERS[name]
        times = []
        for _ in range(ROUNDS):
            t0 = time.perf_counter()
            tf.run(params, previous, history)
            times.append((time.perf_counter() - t0) * 1000)
        report(f"{name} (median)", median(times), "ms", "≤ 5 ms", f"p95 {p95(times):.2f} ms", met=median(times) <= 5)


if __name__ == "__main__":
    main()
