"""Transformers on the results operations really produce: parsed JSON answers, answers a
small model gave in prose or cut off mid-code, refactorings, and each other's output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coda_tui.core.chain import StepResult
from coda_tui.core.operations import OPERATIONS, Subject
from coda_tui.core.spec import parse
from coda_tui.core.transformers import TRANSFORMERS, fenced
from tests.core import smollm_answers as smol

SUBJECT = Subject(smol.USERS, Path("/p/users.py"), "users.py")


def answer(op: str, text: str, **params) -> object:
    operation = OPERATIONS[op]
    return operation.parse(text, operation.with_defaults(params), SUBJECT)


def run(name: str, previous: list, history=(), **params):
    return TRANSFORMERS[name].run(params, previous, history)


SECURITY_JSON = "Here is my analysis:\n```json\n" + json.dumps({
    "score": 4,  # out of 10, as models often do
    "issues": [{"line": 4, "severity": "High", "message": "SQL built with % formatting: injection"},
               {"line": 1, "severity": "minor", "message": "unused import"},
               {"message": "no input validation", "severity": "medium", "confidence": 0.9}],
    "recommendations": ["use a parameterised query", {"text": "validate name", "severity": "critical"}],
}) + "\n```"
PERFORMANCE_JSON = json.dumps({"score": 0.6, "issues": [{"line": 10, "severity": "low", "message": "index loop"}],
                               "recommendations": ["use sum(items)"]})
# The shape a slightly larger local model gives when it ignores the JSON asked for.
BULLETED = ("The code has some problems.\n\n**Issues:**\n1. SQL injection in find_user (High): the name is pasted "
            "into the query.\n2. [low] the loop in total is slow\n\n## Recommendations\n- Use placeholders\n"
            "- Severity: medium - call sum()\n\n```python\n- not a bullet: code\n```\n")


def test_extract_insights_lists_parsed_and_unparsed_findings_with_their_source():
    security = answer("analyze", SECURITY_JSON, type="security")
    bulleted = answer("analyze", BULLETED, type="quality")
    assert security.parsed and not bulleted.parsed
    out = run("extract_insights", [security, bulleted])
    by_message = {s["message"]: s for s in out.suggestions}
    injection = by_message["SQL built with % formatting: injection"]
    assert injection == {"kind": "issue", "area": "security", "severity": "high", "score": 0.75,
                         "message": "SQL built with % formatting: injection", "line": 4,
                         "source": "analyze type:security"}
    assert by_message["unused import"]["severity"] == "low"  # "minor", as the model put it
    assert by_message["no input validation"]["score"] == 0.9  # the model's own number wins
    assert by_message["validate name"]["kind"] == "recommendation" and by_message["validate name"]["severity"] == "critical"
    # The unparsed answer's lists, under their headings, with the levels it marked.
    from_prose = [(s["kind"], s["severity"], s["message"][:20]) for s in out.suggestions if s["area"] == "quality"]
    assert from_prose == [("issue", "high", "SQL injection in fin"), ("issue", "low", "[low] the loop in to"),
                          ("recommendation", None, "Use placeholders"), ("recommendation", "medium", "Severity: medium - c")]
    assert out.parsed and out.note == "1 answer(s) without the JSON asked for: findings read from their lists"
    # The next step reads them as issues and recommendations.
    assert "[high] line 4: SQL built with % formatting" in out.as_previous()
    assert len(out.issues) == 5 and "use a parameterised query" in out.recommendations


def test_a_small_models_prose_gives_no_insights_and_says_so():
    results = [answer("analyze", smol.ANALYZE_SECURITY, type="security"),
               answer("analyze", smol.ANALYZE_PERFORMANCE, type="performance")]
    assert not any(r.parsed for r in results)
    out = run("extract_insights", results)
    assert not out.parsed and out.suggestions == [] and "no issues or recommendations in the 2 result(s)" in out.note
    filtered = run("filter_suggestions", results, severity="high")
    assert not filtered.parsed and "no suggestions to filter" in filtered.note


@pytest.mark.parametrize("params, kept", [
    ({"severity": "high"}, ["SQL built with % formatting: injection", "validate name"]),
    ({"severity": "low", "kind": "recommendation"}, ["validate name"]),  # no level given: not "low or above"
    ({"kind": "performance"}, ["index loop", "use sum(items)"]),
    ({"min_score": "0.8"}, ["no input validation", "validate name"]),
    ({}, ["SQL built with % formatting: injection", "unused import", "no input validation", "use a parameterised query",
          "validate name", "index loop", "use sum(items)"]),
])
def test_filter_suggestions_by_severity_kind_and_score(params, kept):
    results = [answer("analyze", SECURITY_JSON, type="security"), answer("analyze", PERFORMANCE_JSON, type="performance")]
    out = run("filter_suggestions", results, **params)
    assert [s["message"] for s in out.suggestions] == kept
    assert out.note.startswith(f"kept {len(kept)} of 7 suggestion(s)")
    # Filtering what was already extracted gives the same.
    again = run("filter_suggestions", [run("extract_insights", results)], **params)
    assert again.suggestions == out.suggestions


def test_nothing_matching_is_an_answer_not_a_failure():
    out = run("filter_suggestions", [answer("analyze", PERFORMANCE_JSON, type="performance")], severity="critical")
    assert out.parsed and out.suggestions == [] and out.issues == [] and "No suggestion matches." in out.to_markdown()


def test_extract_code_keeps_languages_diffs_and_a_block_cut_off():
    tests = answer("test", smol.TEST)
    refactor = answer("refactor", smol.REFACTOR, type="performance")
    generated = answer("generate", "Sure:\n~~~ts\nexport const add = (a: number, b: number) => a + b;\n~~~\nDone.",
                       requirements="add")
    analysis = answer("analyze", SECURITY_JSON, type="security")
    # The test answer ran out of tokens inside its block: the operation found none.
    assert not tests.parsed and tests.code == []
    out = run("extract_code", [tests, refactor, generated, analysis])
    assert [(b["language"], b["source"], b["closed"]) for b in out.blocks] == [
        ("python", "test", False), ("diff", "refactor type:performance", True), ("ts", "generate type:function requirements:add", True)]
    assert out.blocks[0]["code"].startswith("import sqlite3\n") and out.blocks[1]["code"] == refactor.diff
    assert "1 block(s) cut off" in out.note and out.code == [b["code"] for b in out.blocks]
    assert "```diff\n--- a/users.py" in out.text and "_from refactor type:performance_" in out.text
    only = run("extract_code", [tests, refactor, generated], language="diff")
    assert [b["language"] for b in only.blocks] == ["diff"] and "2 block(s) in other languages left out" in only.note
    none = run("extract_code", [answer("analyze", smol.ANALYZE_SECURITY)])
    assert not none.parsed and none.code == [] and "no fenced code block in the 1 result(s)" in none.note
    assert "none of the 3 code block(s) is in rust" in run("extract_code", [tests, refactor, generated], language="rust").note


def test_a_fence_without_a_language_takes_the_files():
    out = run("extract_code", [answer("explain", "Like this:\n```\nprint(1)\n```\n")])
    assert [(b["language"], b["code"]) for b in out.blocks] == [("python", "print(1)\n")]
    assert fenced("````md\n```py\nx\n```\n````\n") == [("md", "```py\nx\n```\n", True)]


def test_combine_results_joins_a_parallel_stage_into_one_input():
    security = answer("analyze", SECURITY_JSON, type="security")
    performance = answer("analyze", PERFORMANCE_JSON, type="performance")
    out = run("combine_results", [security, performance])
    assert out.sources == ["analyze type:security", "analyze type:performance"] and out.target == "users.py"
    assert "scores: security 0.40, performance 0.60" in out.note and out.score is None and out.parsed
    assert len(out.suggestions) == 7 and len(out.issues) == 4 and len(out.recommendations) == 3
    body = out.as_previous()
    assert "## analyze type:security" in body and "## analyze type:performance" in body and "- [low] line 10: index loop" in body
    mixed = run("combine_results", [security, answer("analyze", smol.ANALYZE_PERFORMANCE, type="performance")])
    assert not mixed.parsed and "unparsed" in mixed.as_previous() and "not optimized for performance" in mixed.text


def test_format_markdown_reports_every_step_so_far():
    security = answer("analyze", SECURITY_JSON, type="security")
    insights = run("extract_insights", [security])
    history = [StepResult(0, 0, "analyze type:security", "complete", result=security, trace_id=3),
               StepResult(1, 0, "if:quality<0.5 refactor", "skipped", note="quality unknown"),
               StepResult(2, 1, "extract_insights", "complete", result=insights)]
    out = run("format_markdown", [insights], history, title="Security | users.py")
    lines = out.text.splitlines()
    assert lines[0] == "# Security | users.py"
    assert "| 1 | analyze type:security | complete | security 0.40, 3 issue(s), 2 recommendation(s) |" in lines
    assert "| 2 | if:quality<0.5 refactor | skipped | quality unknown |" in lines
    assert out.text.count("## analyze type:security") == 1 and "## extract_insights" in out.text
    assert run("format_markdown", [security]).text.startswith("# Pipeline report\n\n| # | step |")


def test_transformers_parse_like_operations():
    spec = parse('analyze type:security & analyze type:performance | combine_results | filter_suggestions '
                 'severity:high min_score:0.5 | if:security<0.5 refactor else format_markdown title:"a report"')
    assert [b.step.op for b in spec.branches] == ["analyze", "analyze", "combine_results", "filter_suggestions", "refactor"]
    assert spec.branches[3].step.args == {"severity": "high", "min_score": "0.5"}
    assert parse(spec.canonical()).canonical() == spec.canonical()


RESULT_TEXT = st.one_of(st.text(max_size=300), st.lists(st.sampled_from(
    ["```", "```python", "~~~", "- [high] x", "1. (Critical) y", "Issues:", "Recommendations", '{"score": 0.5, ',
     '"issues": [', '{"severity": 3, "confidence": "x", "message": null}', "]}", "@@ -1 +1 @@", "\n", "text"]),
    max_size=12).map("\n".join))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["analyze", "review", "explain", "refactor", "test"]), RESULT_TEXT),
                min_size=0, max_size=3))
def test_any_answer_goes_through_every_transformer(answers):
    previous = [answer(op, text) for op, text in answers]
    for name, tf in TRANSFORMERS.items():
        out = tf.run({}, previous)
        assert out.operation == name and isinstance(out.to_markdown(), str) and out.summary()
        json.dumps(out.to_dict())
        # And each transformer reads any transformer's output.
        for other in TRANSFORMERS.values():
            other.run({}, [out])


def test_a_level_counts_only_where_the_model_marked_it():
    out = run("extract_insights", [answer("review", "Findings:\n- Low-level loop in total\n- High: eval of input\n"
                                                    "- the high road (not a level)\n- Severity - critical: secrets\n")])
    assert [s["severity"] for s in out.suggestions] == [None, "high", None, "critical"]
    assert {s["area"] for s in out.suggestions} == {"review"}
