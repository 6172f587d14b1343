"""`coda ai` and `coda pipeline` as a user runs them: real child processes against a
loopback server, real files, a real database."""

from __future__ import annotations

import json
import re

from tests.conftest import run_coda, write_config
from tests.servers import Action, OpenAIServer

CODE = "def add(a, b):\n    return a + b\n"
DIFF = "```diff\n--- a/calc.py\n+++ b/calc.py\n@@ -1,2 +1,2 @@\n-def add(a, b):\n+def add(a: int, b: int) -> int:\n     return a + b\n```"


def setup(tmp_path, url: str, extra: str = "") -> tuple[str, object]:
    proj = tmp_path / "proj"
    proj.mkdir(exist_ok=True)
    (proj / "calc.py").write_text(CODE)
    cfg = write_config(tmp_path, f'[general]\nprovider = "srv"\n[providers.srv]\ntype = "openai"\n'
                                 f'base_url = "{url}/v1"\nmodel = "fake-model"\nmax_retries = 0\n{extra}')
    return str(cfg), proj


def test_a_malformed_spec_is_shown_with_a_caret_and_exit_2(tmp_path):
    proc = run_coda("pipeline", "validate", "analyze type:quality | refactr type:performance")
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines[0] == "coda: bad pipeline spec at column 24: unknown operation 'refactr' (did you mean 'refactor'?)"
    assert lines[1] == "  analyze type:quality | refactr type:performance"
    assert lines[2] == "  " + " " * 23 + "^" * 7
    run = run_coda("pipeline", "--spec", "analyze type:speed", "--input", "x.py")
    assert run.returncode == 2 and "column 14" in run.stderr and run.stderr.splitlines()[2].endswith("^^^^^")
    ok = run_coda("pipeline", "validate", "--json", "analyze & explain | if:quality<0.5 refactor")
    assert ok.returncode == 0 and json.loads(ok.stdout)["stages"] == [["analyze", "explain"], ["if:quality<0.5 refactor"]]
    assert "parallel" in run_coda("pipeline", "validate", "code_review").stdout
    helptext = run_coda("pipeline", "--help").stdout
    assert "if:NAME<NUMBER" in helptext and 'joined by "&" run at the same time' in helptext


def test_ai_analyze_prints_json_and_markdown(tmp_path):
    answer = Action(chunks=['{"score": 0.55, "issues": [{"line": 1, "message": "no hints"}], "recommendations": ["hint it"]}'])
    with OpenAIServer([answer]) as srv:
        cfg, proj = setup(tmp_path, srv.url)
        as_json = run_coda("--config", cfg, "--project", str(proj), "ai", "analyze", "--file", str(proj / "calc.py"),
                           "type:performance", "--output", "json")
        as_md = run_coda("--config", cfg, "--project", str(proj), "ai", "analyze", "-f", str(proj / "calc.py"))
        prompt = srv.chat_requests()[0]["body"]["messages"][-1]["content"]
    assert as_json.returncode == 0, as_json.stderr
    out = json.loads(as_json.stdout)
    assert out["status"] == "complete" and out["result"]["score"] == 0.55 and out["result"]["score_name"] == "performance"
    assert "performance: algorithmic complexity" in prompt and "File calc.py:1-2" in prompt
    assert as_md.returncode == 0 and "**Quality score: 0.55**" in as_md.stdout and "- line 1: no hints" in as_md.stdout
    bad = run_coda("--config", cfg, "ai", "explain", "--file", str(proj / "calc.py"), "level:expert")
    assert bad.returncode == 2 and "must be one of basic, intermediate, advanced" in bad.stderr and "^^^^^^" in bad.stderr


def test_ai_refactor_applies_only_after_confirmation_and_keeps_a_backup(tmp_path):
    with OpenAIServer([Action(chunks=[DIFF])]) as srv:
        cfg, proj = setup(tmp_path, srv.url)
        target = proj / "calc.py"
        args = ("--config", cfg, "--project", str(proj), "ai", "refactor", "--file", str(target))
        preview = run_coda(*args)
        declined = run_coda(*args, "--apply", input="n\n")
        assert preview.returncode == 0 and "+def add(a: int, b: int) -> int:" in preview.stdout
        assert declined.returncode == 1 and "not applied" in declined.stderr
        assert target.read_text() == CODE and not (tmp_path / "data" / "backups").exists()
        accepted = run_coda(*args, "--apply", input="y\n")
    assert accepted.returncode == 0, accepted.stderr
    assert "Apply this diff to calc.py?" in accepted.stderr
    assert target.read_text() == "def add(a: int, b: int) -> int:\n    return a + b\n"
    backups = list((tmp_path / "data" / "backups").rglob("calc.py"))
    assert len(backups) == 1 and backups[0].read_text() == CODE and str(backups[0]) in accepted.stderr
    # Now the file has changed, the same diff no longer applies: refused, untouched.
    with OpenAIServer([Action(chunks=[DIFF])]) as srv:
        cfg, proj = setup(tmp_path, srv.url)
        target.write_text("def add(a: int, b: int) -> int:\n    return a + b\n")
        again = run_coda("--config", cfg, "--project", str(proj), "ai", "refactor", "--file", str(target), "--apply", "--yes")
    assert again.returncode == 1 and "nothing to apply" in again.stderr and "does not apply" in again.stderr


def test_ai_refuses_protected_files_and_explains_review_outside_git(tmp_path):
    with OpenAIServer([Action()]) as srv:
        cfg, proj = setup(tmp_path, srv.url)
        (proj / ".env").write_text("KEY=1\n")
        denied = run_coda("--config", cfg, "--project", str(proj), "ai", "analyze", "--file", str(proj / ".env"))
        review = run_coda("--config", cfg, "--project", str(proj), "ai", "review")
        assert srv.chat_requests() == []
    assert denied.returncode == 2 and "protected pattern" in denied.stderr
    assert review.returncode == 1 and "is not a git repository" in review.stderr


def test_pipeline_runs_a_config_workflow_and_writes_the_report(tmp_path):
    script = [Action(chunks=['{"score": 0.3}']), Action(chunks=["```python\ndef test_add():\n    assert add(1, 2) == 3\n```"])]
    with OpenAIServer(script) as srv:
        cfg, proj = setup(tmp_path, srv.url, '[workflows]\nquick = "analyze | if:quality<0.5 test"\n')
        listed = run_coda("--config", cfg, "pipeline", "list")
        report = tmp_path / "report.json"
        proc = run_coda("--config", cfg, "--project", str(proj), "pipeline", "--spec", "quick", "--input",
                        str(proj / "calc.py"), "--output", str(report))
    assert "quick                  analyze | if:quality<0.5 test  (config)" in listed.stdout
    assert "code_review" in listed.stdout
    assert proc.returncode == 0, proc.stderr
    data = json.loads(report.read_text())
    assert data["workflow"] == "quick" and data["scores"]["quality"] == 0.3
    assert [s["status"] for s in data["steps"]] == ["complete", "complete"]
    assert data["steps"][1]["result"]["code"] == ["def test_add():\n    assert add(1, 2) == 3\n"]
    trace = run_coda("--config", cfg, "trace", str(data["trace_id"]))
    assert "1.analyze" in trace.stdout and "2.test" in trace.stdout and "pipeline/quick" in trace.stdout


def test_a_bad_workflow_in_the_config_names_file_line_and_key(tmp_path):
    cfg = write_config(tmp_path, '[general]\nprovider = "local"\n\n[workflows]\nok = "explain"\nbroken = "analyze | tets"\n')
    proc = run_coda("--config", str(cfg), "pipeline", "list")
    assert proc.returncode == 2
    assert f"config error in {cfg}, line 6, key 'workflows.broken'" in proc.stderr
    assert "column 11 ('tets')" in proc.stderr and "did you mean 'test'" in proc.stderr
    cfg = write_config(tmp_path, '[workflows]\nanalyze = "explain"\n')
    assert "cannot be named like the operation" in run_coda("--config", str(cfg), "pipeline", "list").stderr


def test_ai_generate_from_requirements_with_context_files(tmp_path):
    answer = Action(chunks=["```python\ndef mul(a, b):\n    return a * b\n```\nMultiplies."])
    with OpenAIServer([answer]) as srv:
        cfg, proj = setup(tmp_path, srv.url)
        proc = run_coda("--config", cfg, "--project", str(proj), "ai", "generate", "type:function",
                        "requirements:multiply two numbers, like add", "--context", str(proj / "calc.py"), "-o", "json")
        prompt = srv.chat_requests()[0]["body"]["messages"][-1]["content"]
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["result"]["code"] == ["def mul(a, b):\n    return a * b\n"]
    assert "multiply two numbers, like add" in prompt and "File calc.py:1-2" in prompt and "def add(a, b):" in prompt
    missing = run_coda("--config", cfg, "ai", "generate", "type:module")
    assert missing.returncode == 2 and "'generate' needs requirements" in missing.stderr


def test_the_command_lines_operation_names_are_the_operations():
    from coda_tui.cli.ops import OPERATION_NAMES
    from coda_tui.core.operations import OPERATIONS

    assert OPERATION_NAMES == tuple(OPERATIONS)


ANALYSIS = ['{\n', '"score": 0.4,\n', '"issues": [\n', '{"line": 2, "severity": "high", "message": "eval of input"},\n',
            '{"line": 1, "severity": "low", "message": "terse name"}\n', '],\n', '"recommendations": ["drop eval"]\n', '}\n']
TRANSFORMING = "analyze type:security & analyze type:performance | combine_results | filter_suggestions severity:high | refactor"


def test_stream_prints_each_step_under_its_header_parallel_ones_apart(tmp_path):
    # Both analyses stream at once, token by token; the refactoring comes third.
    script = [Action(chunks=ANALYSIS, delay=0.05), Action(chunks=ANALYSIS, delay=0.05), Action(chunks=[DIFF])]
    with OpenAIServer(script) as srv:
        cfg, proj = setup(tmp_path, srv.url)
        proc = run_coda("--config", cfg, "--project", str(proj), "pipeline", "--stream", "--spec", TRANSFORMING,
                        "--input", str(proj / "calc.py"), "--output", str(tmp_path / "report.json"))
        prompts = [r["body"]["messages"][-1]["content"] for r in srv.chat_requests()]
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    headers = ["## 1 · analyze type:security", "## 2 · analyze type:performance", "## 3 · combine_results",
               "## 4 · filter_suggestions severity:high", "## 5 · refactor"]
    at = [out.index(h + "\n") for h in headers]
    assert at == sorted(at)
    # Each analysis's answer is whole in its own block, ended by its summary line.
    for start, end, area in [(at[0], at[1], "security"), (at[1], at[2], "performance")]:
        block = out[start:end]
        assert "".join(ANALYSIS) in block
        assert re.search(rf"\n\n_complete; {area} 0.40, 2 issue\(s\), 1 recommendation\(s\); trace #\d+_\n\n$", block)
    assert "- issue [high] line 2: eval of input _(analyze type:security)_" in out[at[3]:at[4]]
    assert "kept 2 of 6" in json.loads((tmp_path / "report.json").read_text())["steps"][3]["result"]["note"]
    assert "+def add(a: int, b: int) -> int:" in out[at[4]:]
    # Three model calls: the transformers ran locally. The refactoring saw the high issues only.
    assert len(prompts) == 3 and "eval of input" in prompts[2] and "terse name" not in prompts[2]
    assert "report written to" in proc.stderr
    both = run_coda("--config", cfg, "pipeline", "--stream", "--json", "--spec", "analyze", "-i", "calc.py")
    assert both.returncode == 2 and "choose one" in both.stderr


def test_validate_and_list_know_the_transformers(tmp_path):
    ok = run_coda("pipeline", "validate", TRANSFORMING)
    assert ok.returncode == 0 and "  2. transform: combine_results" in ok.stdout
    bad = run_coda("pipeline", "validate", "analyze | filter_suggestion severity:high")
    assert bad.returncode == 2
    assert "column 11: unknown operation 'filter_suggestion' (did you mean 'filter_suggestions'?)" in bad.stderr
    col = run_coda("pipeline", "validate", "--json", "analyze | filter_suggestions min_score:lots")
    assert json.loads(col.stdout) == {"valid": False, "column": 40, "token": "lots",
                                      "message": "filter_suggestions min_score is a number from 0 to 1, e.g. "
                                                 "min_score:0.5, not 'lots'"}
    listed = run_coda("pipeline", "list")
    for name in ("extract_code", "extract_insights", "format_markdown", "combine_results", "filter_suggestions"):
        assert f"\n{name} " in listed.stdout
    as_json = json.loads(run_coda("pipeline", "list", "--json").stdout)
    assert [e["name"] for e in as_json if e["source"] == "transformer"] == [
        "extract_code", "extract_insights", "format_markdown", "combine_results", "filter_suggestions"]
    assert "filter_suggestions severity:low|medium|high|critical" in run_coda("pipeline", "--help").stdout
