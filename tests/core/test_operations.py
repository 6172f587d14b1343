"""Reading operations' answers, as real models write them: JSON in prose, scores out of
10, whole files instead of diffs, or nothing usable at all."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coda_tui.context.project import Project, SandboxError
from coda_tui import patch
from coda_tui.core.apply import apply_diff, backup_root
from coda_tui.core.operations import OPERATIONS, Subject

CODE = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"
SUBJECT = Subject(CODE, Path("/p/calc.py"), "calc.py")


def read(op: str, text: str, **params):
    operation = OPERATIONS[op]
    return operation.parse(text, operation.with_defaults(params), SUBJECT)


@pytest.mark.parametrize("text, score", [
    ('Sure! ```json\n{"score": 0.62, "issues": ["no docstrings"], "recommendations": "add docstrings"}\n```', 0.62),
    ('{"score": 7, "issues": [{"line": 3, "message": "x", "severity": "low"}]} hope that helps', 0.7),
    ('Result: {"score": "85%", "issues": []}', 0.85),
])
def test_analyze_reads_json_wherever_it_is(text, score):
    r = read("analyze", text, type="security")
    assert r.parsed and r.score == score and r.score_name == "security"
    assert all("message" in i for i in r.issues)


def test_analyze_falls_back_to_a_score_in_prose_then_to_unparsed():
    r = read("analyze", "Overall I'd give it a score of 8/10. Watch the naming.")
    assert r.parsed and r.score == 0.8 and "read from its text" in r.note
    r = read("analyze", "The code is well-structured and easy to understand.")
    assert not r.parsed and r.score is None and "neither the JSON" in r.note
    assert "unparsed" in r.summary() and "well-structured" in r.to_markdown()
    r = read("analyze", '{"issues": ["a"], "score": "high"}')
    assert not r.parsed and r.issues == [{"message": "a"}] and "no score" in r.note


def test_refactor_accepts_a_diff_that_applies_and_refuses_one_that_does_not():
    good = "```diff\n--- a/calc.py\n+++ b/calc.py\n@@ -5,2 +5,2 @@\n def sub(a, b):\n-    return a - b\n+    return a - b  # difference\n```"
    r = read("refactor", good)
    assert r.parsed and r.diff.startswith("--- a/calc.py\n+++ b/calc.py\n") and "+    return a - b  # difference" in r.diff
    bad = "```diff\n@@ -1,2 +1,2 @@\n def mul(a, b):\n-    return a * b\n+    return b * a\n```"
    r = read("refactor", bad)
    assert not r.parsed and r.diff is None and "does not apply" in r.note and "def mul" in r.note


def test_refactor_makes_the_diff_itself_when_the_model_rewrites_the_file():
    rewritten = "Here is the improved file:\n```python\n" + CODE.replace("def add(a, b):", "def add(a: int, b: int) -> int:") + "```"
    r = read("refactor", rewritten)
    assert r.parsed and "coda made the diff" in r.note
    assert patch.apply(CODE, r.diff) == CODE.replace("def add(a, b):", "def add(a: int, b: int) -> int:")
    r = read("refactor", "I would add type hints.")
    assert not r.parsed and "no unified diff" in r.note


def test_code_operations_and_explain():
    r = read("test", "```python\ndef test_add():\n    assert add(1, 2) == 3\n```\nCovers add.")
    assert r.parsed and r.code == ["def test_add():\n    assert add(1, 2) == 3\n"]
    assert not read("generate", "just prose", requirements="x").parsed
    assert read("explain", "It adds.").parsed and not read("explain", "  ").parsed


def test_prompts_carry_the_params_and_earlier_results():
    op = OPERATIONS["explain"]
    earlier = read("analyze", '{"score": 0.4, "issues": ["slow loop"]}')
    prompt = op.prompt(op.with_defaults({"level": "advanced"}), SUBJECT, [earlier])
    assert "for an expert" in prompt and "calc.py" in prompt and "slow loop" in prompt and "0.40" in prompt


def test_patch_applies_with_an_offset_and_keeps_the_last_newline():
    shifted = "# header\n# more\n" + CODE
    diff = patch.make(CODE, CODE.replace("a - b", "b - a"), "calc.py")
    assert patch.apply(shifted, diff) == "# header\n# more\n" + CODE.replace("a - b", "b - a")
    with pytest.raises(patch.PatchError, match="no hunks"):
        patch.apply(CODE, "no diff here")


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "", "def f():", "    return 1"]), max_size=25),
       st.lists(st.sampled_from(["a", "b", "x", "", "def g():", "    return 2"]), max_size=25))
def test_a_made_diff_always_applies_back(old_lines, new_lines):
    old = "\n".join(old_lines) + "\n"
    new = "\n".join(new_lines) + "\n"
    diff = patch.make(old, new, "f.txt")
    if diff:
        assert patch.apply(old, diff) == new


def test_apply_writes_only_a_clean_patch_keeps_a_backup_and_obeys_the_sandbox(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    root.mkdir()
    target = root / "calc.py"
    target.write_text(CODE)
    target.chmod(0o640)
    project = Project(root)
    diff = patch.make(CODE, CODE.replace("a + b", "b + a"), "calc.py")
    applied = apply_diff(project, target, diff)
    assert target.read_text() == CODE.replace("a + b", "b + a") and (target.stat().st_mode & 0o777) == 0o640
    assert applied.backup.read_text() == CODE and applied.backup.is_relative_to(backup_root(project))
    assert not applied.backup.is_relative_to(root) and (applied.added, applied.removed) == (1, 1)
    # The same diff again no longer matches: refused, file untouched.
    with pytest.raises(patch.PatchError, match="does not match"):
        apply_diff(project, target, diff)
    assert target.read_text() == CODE.replace("a + b", "b + a")
    (root / ".env").write_text("A=1\n")
    with pytest.raises(SandboxError, match="protected pattern"):
        apply_diff(project, root / ".env", patch.make("A=1\n", "A=2\n", ".env"))
    assert (root / ".env").read_text() == "A=1\n"
    assert not list(root.glob(".*.coda"))  # no temporary file left behind


def test_patch_keeps_the_files_own_line_endings_and_last_line():
    # No final newline: the made diff must not glue the last line to the next.
    diff = patch.make("x = 1\ny = 2", "x = 1\ny = 3\n", "m.py")
    assert patch.changed_lines(diff) == (1, 1)
    assert patch.apply("x = 1\ny = 2", diff) == "x = 1\ny = 3"
    # CRLF stays CRLF, and only the changed line counts.
    crlf = "a\r\nb\r\nc\r\n"
    diff = patch.make(crlf, "a\nB\nc\n", "w.txt")
    assert patch.changed_lines(diff) == (1, 1)
    assert patch.apply(crlf, diff) == "a\r\nB\r\nc\r\n"
    # A form feed is part of its line, not a line break.
    assert patch.apply("a\x0cb\nc\n", patch.make("a\x0cb\nc\n", "a\x0cb\nC\n", "f")) == "a\x0cb\nC\n"


def test_removing_a_line_that_starts_with_two_dashes():
    sql = "select 1;\n-- old comment\nselect 2;\n---\n"
    new = "select 1;\nselect 2;\n"
    assert patch.apply(sql, patch.make(sql, new, "q.sql")) == new


def test_apply_refuses_a_file_that_is_not_utf8(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    target = root / "latin.py"
    target.write_bytes("s = 'caf\xe9'\n".encode("latin-1"))
    with pytest.raises(patch.PatchError, match="not UTF-8"):
        apply_diff(Project(root), target, patch.make("s = 'x'\n", "s = 'y'\n", "latin.py"))
