"""`analyze type:quality|performance|security`: a 0–1 score, the issues, recommendations."""

from __future__ import annotations

from coda_tui.core.operations import parsing
from coda_tui.core.operations.base import Operation, OperationResult, Param, Subject

FOCUS = {
    "quality": "code quality: readability, naming, structure, duplication, error handling and testability",
    "performance": "performance: algorithmic complexity, needless work, I/O and memory use",
    "security": "security: injection, unsafe input handling, secrets, unsafe APIs, missing validation",
}

JSON_FORMAT = (
    'Reply with only a JSON object, no other text:\n'
    '{"score": <a number from 0.0 (very poor) to 1.0 (excellent)>, '
    '"issues": [{"line": <line number>, "severity": "high|medium|low", "message": "<the problem>"}], '
    '"recommendations": ["<a concrete improvement>"]}'
)


def read_scored(op: Operation, text: str, params: dict[str, str], subject: Subject | None, name: str) -> OperationResult:
    """Score, issues and recommendations from JSON; failing that, a score in the prose;
    failing that, the answer kept as it is and marked unparsed."""
    data = parsing.json_object(text)
    if data is not None:
        score = parsing.normalise_score(data.get("score"))
        issues = parsing.issue_list(data.get("issues"))
        recs = parsing.string_list(data.get("recommendations"))
        if score is not None:
            return op.result(text, params, subject, parsed=True, score=score, score_name=name, issues=issues,
                             recommendations=recs)
        return op.result(text, params, subject, parsed=False, score_name=name, issues=issues, recommendations=recs,
                         note="the JSON in the answer has no score from 0 to 1")
    score = parsing.score_in_text(text)
    if score is not None:
        return op.result(text, params, subject, parsed=True, score=score, score_name=name,
                         note="no JSON in the answer; the score was read from its text")
    return op.result(text, params, subject, parsed=False, score_name=name,
                     note="the answer has neither the JSON asked for nor a score; shown as it came")


class Analyze(Operation):
    name = "analyze"
    help = "a 0–1 score with the issues found and recommendations"
    params = (Param("type", tuple(FOCUS), "quality", help="what to judge"),)

    def score_name(self, params: dict[str, str]) -> str:
        return params.get("type", "quality")

    def instructions(self, params: dict[str, str], subject: Subject | None) -> str:
        return (f"Analyze the {subject.label if subject else 'code'} above for {FOCUS[params['type']]}.\n\n"
                + JSON_FORMAT)

    def parse(self, text: str, params: dict[str, str], subject: Subject | None) -> OperationResult:
        return read_scored(self, text, params, subject, self.score_name(params))
