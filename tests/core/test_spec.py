"""The pipeline spec language: what parses, and where a bad spec is wrong."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coda_tui.core.spec import (
    BUILTIN_WORKFLOWS,
    SpecError,
    parse,
    step_from_args,
    validate_workflows,
)


def test_stages_parallel_groups_and_conditions():
    spec = parse('analyze type:security & analyze type:performance | if:security<=0.5 refactor type:security '
                 'else explain level:advanced focus:patterns | generate type:test requirements:"cover a | b"')
    assert [len(s) for s in spec.stages] == [2, 1, 1]
    cond = spec.stages[1][0]
    assert (cond.condition.name, cond.condition.cmp, cond.condition.value) == ("security", "<=", 0.5)
    assert cond.step.args == {"type": "security"} and cond.otherwise.args == {"level": "advanced", "focus": "patterns"}
    assert spec.stages[2][0].step.args == {"type": "test", "requirements": "cover a | b"}
    # The canonical form parses back to the same thing.
    assert parse(spec.canonical()).canonical() == spec.canonical()


def test_workflow_names_expand_and_every_builtin_is_valid():
    assert validate_workflows(BUILTIN_WORKFLOWS) == {}
    spec = parse("  security_audit ")
    assert spec.workflow == "security_audit" and spec.canonical() == BUILTIN_WORKFLOWS["security_audit"]
    assert parse("mine", {"mine": "explain | test"}).canonical() == "explain | test"
    assert "analyze" in validate_workflows({"analyze": "explain"})


@pytest.mark.parametrize(
    "text, token, words",
    [
        ("analyze type:quality | refactr", "refactr", "did you mean 'refactor'"),
        ("analyze type:qualty", "qualty", "must be one of quality, performance, security"),
        ("analyze | ", "", "expected an operation after '|'"),
        ("analyze && explain", "&", "expected an operation after '&'"),
        ("if:quality<0.8 refactor", "quality", "no earlier step gives a score named 'quality'"),
        ("analyze type:security | if:quality<0.8 refactor", "quality", "available: score, security"),
        ("analyze | if:quality<1.5 refactor", "1.5", "scores are from 0 to 1"),
        ("analyze | if:quality~0.5 refactor", "if:quality~0.5", "a condition is if:NAME<NUMBER"),
        ("analyze explain", "explain", "needs a '|'"),
        ("analyze level:basic", "level", "takes no parameter 'level'"),
        ("analyze type:quality type:security", "type", "given twice"),
        ("explain | else test", "else", "'else' must follow a conditional step"),
        ("analyze else test", "else", "'else' must follow a conditional step"),
        ('generate requirements:"unclosed', '"unclosed', "unterminated quoted value"),
        ("generate type:module", "generate", "needs requirements"),
        ("   ", "", "the spec is empty"),
        # Transformers' steps and parameters, as an operation's.
        ("analyze | filter_suggestions min_score:high", "high", "min_score is a number from 0 to 1"),
        ("analyze | filter_suggestions min_score:1.5", "1.5", "min_score is a number from 0 to 1"),
        ("analyze | filter_suggestions severity:urgent", "urgent", "must be one of low, medium, high, critical"),
        ("analyze | filter_suggestions kind:bug", "bug", "must be one of issue, recommendation"),
        ("analyze | filter_suggestions sevrity:high", "sevrity", "did you mean 'severity'?"),
        ("analyze | combine_result", "combine_result", "did you mean 'combine_results'?"),
        ("extract_insights | explain", "extract_insights", "reshapes the results of earlier steps"),
        ("analyze | extract_code explain", "explain", "needs a '|'"),
    ],
)
def test_errors_point_at_the_token(text, token, words):
    with pytest.raises(SpecError) as info:
        parse(text)
    err = info.value
    assert words in err.message
    if token:
        assert err.token == token and err.column == text.rindex(token) + 1
    else:  # missing at the end
        assert err.pos >= len(text.rstrip())
    _, caret_line = err.caret().splitlines()
    assert caret_line.index("^") == 2 + err.pos and caret_line.count("^") == max(1, len(token))


def test_arguments_from_a_shell_keep_their_spaces():
    step = step_from_args("generate", ["type:function", "requirements:parse a date | or fail"])
    assert step.args == {"type": "function", "requirements": "parse a date | or fail"}
    with pytest.raises(SpecError, match="takes no parameter 'levl'"):
        step_from_args("explain", ["levl:basic"])


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(["analyze", "explain", "refactor", "test", "review", "generate", "|", "&", "else",
                              "type:quality", "type:security", "level:basic", "if:quality<0.8", "if:score>=1",
                              "combine_results", "filter_suggestions", "severity:high", "min_score:0.5", "extract_code",
                              'requirements:"x y"', '"', ":", "type:", "if:", "focus:patterns", "code_review"]),
             max_size=10).map(" ".join),
))
def test_any_text_is_a_spec_or_an_error_with_a_position(text):
    try:
        spec = parse(text)
    except SpecError as err:
        assert 0 <= err.pos <= len(text) and err.length >= 1 and err.message
        assert "^" in err.caret()
    else:
        assert spec.stages and all(stage for stage in spec.stages)
        assert parse(spec.canonical()).canonical() == spec.canonical()
