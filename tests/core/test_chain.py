"""Operation chains run for real: each step a turn through the pipeline against a loopback
server (or the embedded model), stored and traced."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess

import pytest

from coda_tui.core.chain import ChainError, ChainRunner
from coda_tui.core.chain_events import (
    ChainFinished,
    ChainStarted,
    StepEvent,
    StepFinished,
    StepStarted,
)
from coda_tui.core.events import StageStarted, TurnFinished
from coda_tui.core.runtime import Runtime
from coda_tui.core.spec import parse
from coda_tui.providers import base
from tests.conftest import write_config
from tests.servers import Action, OpenAIServer

CODE = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(base, "BACKOFF_BASE", 0.05)


@pytest.fixture
def proj(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "calc.py").write_text(CODE)
    return root


def runtime(tmp_path, url: str, proj) -> Runtime:
    cfg = write_config(tmp_path, f'[general]\nprovider = "srv"\n[providers.srv]\ntype = "openai"\nbase_url = "{url}/v1"\n'
                                 f'model = "fake-model"\nmax_retries = 0\n')
    return Runtime(cfg, project=proj)


def run_chain(rt: Runtime, spec_text: str, **kw):
    events = []
    rt.bus.subscribe(events.append)

    async def go():
        try:
            return await ChainRunner(rt.turns).run(parse(spec_text), **kw)
        finally:
            await rt.aclose()

    return asyncio.run(go()), events


def scored(score: float) -> Action:
    body = {"score": score, "issues": [{"line": 2, "severity": "low", "message": "no type hints"}],
            "recommendations": ["add type hints"]}
    return Action(chunks=["Here you go:\n```json\n", json.dumps(body), "\n```\n"])


DIFF = ("```diff\n--- a/calc.py\n+++ b/calc.py\n@@ -1,2 +1,2 @@\n-def add(a, b):\n+def add(a: int, b: int) -> int:\n"
        "     return a + b\n```\nAdded type hints.")
SPEC = "analyze type:quality | if:quality<0.8 refactor type:readability else explain level:basic"


@pytest.mark.parametrize("score, ran, skipped_word", [(0.5, "refactor", "explain"), (0.9, "explain", "refactor")])
def test_conditional_takes_the_branch_the_score_picks(tmp_path, proj, score, ran, skipped_word):
    second = Action(chunks=[DIFF]) if ran == "refactor" else Action(chunks=["## What it does\n\nIt adds and subtracts."])
    with OpenAIServer([scored(score), second]) as srv:
        rt = runtime(tmp_path, srv.url, proj)
        chain, events = run_chain(rt, SPEC, input_path=proj / "calc.py")
        prompts = [r["body"]["messages"][-1]["content"] for r in srv.chat_requests()]
    assert chain.status == "complete" and chain.scores["quality"] == score
    first, cond = chain.steps
    assert first.result.parsed and first.result.issues == [{"line": 2, "severity": "low", "message": "no type hints"}]
    assert cond.status == "complete" and cond.ran.split()[0] == ran
    assert ("0.50 < 0.8" if score < 0.8 else "0.90 is not < 0.8; else branch") in cond.note
    if ran == "refactor":
        assert cond.result.parsed and "+def add(a: int, b: int) -> int:" in cond.result.diff
        assert cond.result.diff.startswith("--- a/calc.py\n+++ b/calc.py\n")
    else:
        assert cond.result.parsed and "adds and subtracts" in cond.result.text
    # Two model calls only: the branch not taken never ran. The second got the first's findings.
    assert len(prompts) == 2 and "no type hints" in prompts[1] and "calc.py" in prompts[1]
    assert skipped_word not in cond.ran
    # Both steps are stored turns with their own traces, and the chain has one too.
    traces = {s.trace_id: rt.store.traces.get(s.trace_id) for s in chain.steps}
    assert all(t.status == "complete" and [s.name for s in t.stages] == ["context", "memory", "prompt", "llm", "store"]
               for t in traces.values())
    stored = rt.store.traces.get(chain.trace.id)
    assert stored.provider == "pipeline" and [s.name for s in stored.stages] == ["1.analyze", f"2.{ran}"]
    assert [s.detail["trace_id"] for s in stored.stages] == [s.trace_id for s in chain.steps]
    kinds = [type(e) for e in events]
    assert kinds[0] is ChainStarted and kinds[-1] is ChainFinished
    assert kinds.count(StepStarted) == 2 and kinds.count(StepFinished) == 2
    # The steps' own stage events reach the bus wrapped, never bare (they would mix on the waterfall).
    assert not any(isinstance(e, (StageStarted, TurnFinished)) for e in events)
    assert {e.index for e in events if isinstance(e, StepEvent) and isinstance(e.event, TurnFinished)} == {0, 1}
    rt.close()


def test_condition_on_a_missing_score_skips_both_branches_and_says_why(tmp_path, proj):
    with OpenAIServer([Action(chunks=["I think the code is fine."])]) as srv:
        rt = runtime(tmp_path, srv.url, proj)
        chain, _ = run_chain(rt, SPEC, input_path=proj / "calc.py")
        assert len(srv.chat_requests()) == 1
    first, cond = chain.steps
    assert first.status == "complete" and not first.result.parsed and "neither the JSON" in first.result.note
    assert cond.status == "skipped" and "quality unknown" in cond.note
    rt.close()


def test_parallel_steps_overlap_in_time(tmp_path, proj):
    # Each answer takes 1 s to start; run one after the other they would take 2 s.
    slow = Action(chunks=['{"score": 0.7}'], first_delay=1.0)
    with OpenAIServer([slow]) as srv:
        rt = runtime(tmp_path, srv.url, proj)
        chain, _ = run_chain(rt, "analyze type:security & analyze type:performance | explain", input_path=proj / "calc.py")
        requests = sorted(srv.chat_requests(), key=lambda r: r["time"])
    times = [r["time"] for r in requests]
    a, b, _ = chain.steps
    assert [s.stage for s in chain.steps] == [0, 0, 1] and chain.status == "complete"
    assert chain.scores == {"security": 0.7, "performance": 0.7, "score": 0.7}
    # In the chain's trace: each parallel step starts before the other ends.
    stored = rt.store.traces.get(chain.trace.id).stages
    s1, s2, s3 = stored
    assert s1.start_ms < s2.start_ms + s2.duration_ms and s2.start_ms < s1.start_ms + s1.duration_ms
    overlap = min(s1.start_ms + s1.duration_ms, s2.start_ms + s2.duration_ms) - max(s1.start_ms, s2.start_ms)
    assert overlap > 600
    assert s3.start_ms >= max(s1.start_ms + s1.duration_ms, s2.start_ms + s2.duration_ms)
    # And in the steps' own traces, by wall clock.
    ta, tb = (rt.store.traces.get(s.trace_id) for s in (a, b))
    start_a, start_b = (dt.datetime.fromisoformat(t.started_at) for t in (ta, tb))
    end_a = start_a + dt.timedelta(milliseconds=ta.total_ms)
    end_b = start_b + dt.timedelta(milliseconds=tb.total_ms)
    assert start_b < end_a and start_a < end_b
    # The server saw both requests before either answer could have started.
    assert times[1] - times[0] < 1.0
    # The explain step got both results.
    last = requests[2]["body"]["messages"][-1]["content"]
    assert "## analyze type:security" in last and "## analyze type:performance" in last
    rt.close()


def test_a_failed_step_stops_the_chain_unless_continue_on_error(tmp_path, proj):
    script = [Action(kind="status", status=500), Action(chunks=["tests"])]
    with OpenAIServer(list(script)) as srv:
        rt = runtime(tmp_path, srv.url, proj)
        chain, _ = run_chain(rt, "analyze | test", input_path=proj / "calc.py")
    assert chain.status == "error" and [s.status for s in chain.steps] == ["error", "not run"]
    assert "500" in chain.steps[0].note and chain.steps[1].note == "an earlier step failed"
    rt.close()
    with OpenAIServer(list(script)) as srv:
        rt = runtime(tmp_path, srv.url, proj)
        chain, _ = run_chain(rt, "analyze | test", input_path=proj / "calc.py", continue_on_error=True)
    assert chain.status == "error" and [s.status for s in chain.steps] == ["error", "complete"]
    rt.close()


def test_a_step_needing_a_file_without_one_is_refused_before_any_call(tmp_path, proj):
    with OpenAIServer([Action()]) as srv:
        rt = runtime(tmp_path, srv.url, proj)
        with pytest.raises(ChainError, match="'analyze' works on a file"):
            run_chain(rt, "analyze")
        assert srv.chat_requests() == []
    rt.close()


def git(root, *args):
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t", "HOME": str(root), "PATH": "/usr/bin:/bin"})


def test_review_reads_git_diff_and_leaves_out_protected_files(tmp_path, proj):
    with OpenAIServer([scored(0.6)]) as srv:
        rt = runtime(tmp_path, srv.url, proj)
        chain, _ = run_chain(rt, "review")
        assert chain.status == "error" and "is not a git repository" in chain.steps[0].note
        git(proj, "init", "-q")
        (proj / ".env").write_text("TOKEN=1\n")
        (proj / "ü.pem").write_text("SECRET=1\n")
        git(proj, "add", ".")
        git(proj, "commit", "-qm", "start")
        chain, _ = run_chain(runtime(tmp_path, srv.url, proj), "review")
        assert "no changes to review" in chain.steps[0].note
        (proj / "calc.py").write_text(CODE.replace("a + b", "a + b + 0"))
        (proj / ".env").write_text("TOKEN=2\n")
        # A name git quotes in its headers ("a/\303\274.pem") is left out all the same.
        (proj / "ü.pem").write_text("SECRET=3\n")
        rt = runtime(tmp_path, srv.url, proj)
        chain, _ = run_chain(rt, "review | if:review<0.7 test")
        sent = srv.chat_requests()[0]["body"]["messages"][-1]["content"]
    assert chain.steps[0].status == "complete" and chain.steps[0].result.score == 0.6
    assert "+    return a + b + 0" in sent and "TOKEN" not in sent and ".env" not in sent
    assert "SECRET" not in sent and ".pem" not in sent
    rt.close()


@pytest.mark.slow
def test_embedded_model_runs_analyze_then_explain(tmp_path, proj):
    # The embedded model, with answers kept short so the test takes seconds, not minutes.
    cfg = write_config(tmp_path, '[providers.local]\ntype = "llama_cpp"\nmax_tokens = 160\n')
    rt = Runtime(cfg, project=proj)
    chain, _ = run_chain(rt, "analyze type:quality | explain level:basic", input_path=proj / "calc.py")
    assert [s.status for s in chain.steps] == ["complete", "complete"]
    analyze, explain = (s.result for s in chain.steps)
    # A 135M model may or may not give a score: either way a result, and a note when not.
    assert analyze.text.strip() and (analyze.parsed or analyze.note)
    assert analyze.score is None or 0 <= analyze.score <= 1
    assert explain.text.strip()
    for s in chain.steps:
        t = rt.store.traces.get(s.trace_id)
        assert t.provider == "local" and t.tokens > 0
        assert [st.name for st in t.stages] == ["context", "memory", "prompt", "llm", "store"]
    assert rt.store.traces.get(chain.trace.id).stages[1].detail["trace_id"] == chain.steps[1].trace_id
    rt.close()


def test_transformers_run_between_operations_with_a_stage_of_their_own(tmp_path, proj):
    high = {"score": 0.5, "issues": [{"line": 1, "severity": "high", "message": "no validation"},
                                      {"line": 2, "severity": "low", "message": "short names"}]}
    script = [Action(chunks=[json.dumps(high)]), Action(chunks=[DIFF])]
    spec = ('analyze type:security & analyze type:performance | combine_results | filter_suggestions severity:high '
            '| if:security<0.8 refactor | extract_code | format_markdown title:"calc.py review"')
    with OpenAIServer([script[0], *script]) as srv:
        rt = runtime(tmp_path, srv.url, proj)
        chain, events = run_chain(rt, spec, input_path=proj / "calc.py")
        prompts = [r["body"]["messages"][-1]["content"] for r in srv.chat_requests()]
    assert chain.status == "complete" and [s.status for s in chain.steps] == ["complete"] * 7
    combined, filtered, refactor, code, report = (s.result for s in chain.steps[2:])
    assert combined.sources == ["analyze type:security", "analyze type:performance"] and len(combined.suggestions) == 4
    assert [s["message"] for s in filtered.suggestions] == ["no validation", "no validation"]
    # Three model calls; the refactoring read the filtered findings, not the low one.
    assert len(prompts) == 3 and "no validation" in prompts[2] and "short names" not in prompts[2]
    assert code.blocks == [{"language": "diff", "code": refactor.diff, "source": "refactor type:all", "closed": True}]
    assert report.text.startswith("# calc.py review\n\n| # | step | status | result |")
    assert "| 5 | if:security<0.8 refactor | complete | diff +1 -1; security 0.50 < 0.8 |" in report.text
    # The spec made its report: it is the run's Markdown.
    assert chain.to_markdown() == report.text + "\n"
    # In the run's trace each transformer is a stage; in the steps' events, one 'transform' stage, no turn.
    stored = rt.store.traces.get(chain.trace.id)
    assert [s.name for s in stored.stages] == ["1.analyze", "2.analyze", "3.combine_results", "4.filter_suggestions",
                                               "5.refactor", "6.extract_code", "7.format_markdown"]
    assert [s.detail["trace_id"] is None for s in stored.stages] == [False, False, True, True, False, True, True]
    inner = {}
    for e in events:
        if isinstance(e, StepEvent):
            inner.setdefault(e.index, []).append(type(e.event).__name__ + ":" + getattr(e.event, "name", ""))
    assert all(inner[i] == ["StageStarted:transform", "StageFinished:transform"] for i in (2, 3, 5, 6))
    assert "TurnFinished:" in inner[4]
    rt.close()


@pytest.mark.slow
def test_embedded_model_answers_go_through_the_transformers(tmp_path, proj):
    cfg = write_config(tmp_path, '[providers.local]\ntype = "llama_cpp"\nmax_tokens = 80\n')
    rt = Runtime(cfg, project=proj)
    chain, _ = run_chain(rt, "analyze type:security & test | combine_results | extract_code | extract_insights "
                             "| format_markdown", input_path=proj / "calc.py")
    assert [s.status for s in chain.steps] == ["complete"] * 6
    combined, code, insights, report = (s.result for s in chain.steps[2:])
    assert combined.sources == ["analyze type:security", "test"]
    # Whatever shape the small model's answers took, each transformer says what it found.
    assert code.blocks or "no fenced code block" in code.note
    assert all(b["language"] and b["code"].strip() for b in code.blocks)
    assert insights.suggestions or "no issues or recommendations" in insights.note
    assert report.text.startswith("# Pipeline report") and "| 2 | test | complete |" in report.text
    assert chain.to_markdown() == report.text + "\n"
    stages = [s.name for s in rt.store.traces.get(chain.trace.id).stages]
    assert stages == ["1.analyze", "2.test", "3.combine_results", "4.extract_code", "5.extract_insights", "6.format_markdown"]
    rt.close()
