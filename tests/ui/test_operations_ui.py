"""Slash commands, pipelines and applying a refactoring, in the app driven by Pilot."""

from __future__ import annotations

import asyncio

from coda_tui.ui.screens.dialogs import Confirm
from coda_tui.ui.widgets.chat import ChatInput
from coda_tui.ui.widgets.messages import MessageList
from coda_tui.ui.widgets.steps import StepsView
from tests.servers import Action
from tests.ui.conftest import wait_for

STAGES = ["context", "memory", "prompt", "llm", "store"]


def run(coro):
    return asyncio.run(coro)


async def type_and_send(pilot, text: str) -> None:
    box = pilot.app.query_one(ChatInput)
    box.focus()
    box.load_text(text)
    await pilot.press("enter")


async def finished(pilot) -> None:
    app = pilot.app
    await wait_for(lambda: not app.turn_running and app.ops._view is None, pilot=pilot)
    await pilot.pause(0.1)


def test_analyze_acts_on_the_code_pane_file(harness, project):
    async def go():
        h = harness([Action(chunks=['{"score": 0.42, ', '"issues": [{"line": 1, "message": "magic numbers"}]}'])])
        app = h.app(project)
        async with app.run_test(size=(140, 44)) as pilot:
            app.show_file(project / "src" / "calc.py")
            await pilot.pause()
            await type_and_send(pilot, "/analyze type:security")
            await finished(pilot)
            views = app.query_one(MessageList).views
            assert [v.role for v in views] == ["user", "assistant"] and views[0].text == "/analyze type:security"
            answer = views[-1]
            assert answer.status == "complete" and "Security score: 0.42" in answer.text and "magic numbers" in answer.text
            sent = h.server.chat_requests()[0]["body"]["messages"]
            assert "File src/calc.py:1-17" in sent[-1]["content"] and "security: injection" in sent[-1]["content"]
            steps = app.query_one(StepsView)
            assert steps.display and steps.status == "complete"
            (line,) = steps.steps
            assert line.status == "complete" and [name for name, _ in line.stages] == STAGES
            assert all(ms is not None for _, ms in line.stages) and "security 0.42" in line.summary
            # Its turn is in the pipeline history, as any question's is.
            assert app.query_one("#pipeline-history").row_count == 1
            # The chat session itself was not touched: the operation has a session of its own.
            assert app.session is None

    run(go())


def test_pipeline_shows_each_step_live_with_its_stages(harness, project):
    async def go():
        # Long enough that a loaded machine still catches both steps waiting on the server.
        slow = Action(chunks=['{"score": 0.9}'], first_delay=1.5)
        h = harness([slow, slow, Action(chunks=["It adds numbers."], first_delay=0.3)])
        app = h.app(project)
        async with app.run_test(size=(140, 44)) as pilot:
            app.show_file(project / "src" / "calc.py")
            await pilot.pause()
            await type_and_send(pilot, "/pipeline analyze & analyze type:performance | if:quality<0.8 refactor else explain")
            steps = app.query_one(StepsView)
            # While the parallel pair waits on the server, both are running at once, mid-llm.
            await wait_for(lambda: [s.status for s in steps.steps[:2]] == ["running", "running"]
                           and all(s.stages and s.stages[-1] == ("llm", None) for s in steps.steps[:2]),
                           timeout=20, pilot=pilot)
            drawn = str(steps.render())
            assert "┬▶ 1 analyze" in drawn and "├▶ 2 analyze type:performance" in drawn and "llm…" in drawn
            await finished(pilot)
            assert [s.status for s in steps.steps] == ["complete", "complete", "complete"]
            assert steps.steps[2].label == "explain" and "quality 0.90 is not < 0.8" in steps.steps[2].summary
            assert all([n for n, _ in s.stages] == STAGES for s in steps.steps)
            answer = app.query_one(MessageList).views[-1]
            assert "It adds numbers." in answer.text and "3 steps · complete" in str(answer.query_one(".msg-meta").render())
            # Three step turns and the pipeline's own trace.
            assert app.query_one("#pipeline-history").row_count == 4

    run(go())


def test_refactor_is_applied_only_after_confirm(harness, project):
    diff = ("```diff\n--- a/src/calc.py\n+++ b/src/calc.py\n@@ -1,2 +1,2 @@\n-def add(a, b):\n"
            "+def add(a: int, b: int) -> int:\n     return a + b\n```")

    async def go():
        h = harness([Action(chunks=[diff])])
        app = h.app(project)
        target = project / "src" / "calc.py"
        before = target.read_text()
        async with app.run_test(size=(140, 44)) as pilot:
            await type_and_send(pilot, "/refactor src/calc.py")
            await finished(pilot)
            assert "+def add(a: int, b: int) -> int:" in app.query_one(MessageList).views[-1].text
            assert target.read_text() == before
            await type_and_send(pilot, "/apply")
            await wait_for(lambda: isinstance(app.screen, Confirm), pilot=pilot)
            await pilot.press("n")
            await pilot.pause()
            assert target.read_text() == before
            await type_and_send(pilot, "/apply")
            await wait_for(lambda: isinstance(app.screen, Confirm), pilot=pilot)
            await pilot.press("y")
            await wait_for(lambda: target.read_text() != before, pilot=pilot)
            assert target.read_text().startswith("def add(a: int, b: int) -> int:\n")
            backups = list(app.rt.store.path.parent.joinpath("backups").rglob("calc.py"))
            assert [b.read_text() for b in backups] == [before]

    run(go())


def test_bad_commands_are_explained_and_given_back(harness, project):
    async def go():
        h = harness()
        app = h.app(project)
        async with app.run_test(size=(140, 44)) as pilot:
            await type_and_send(pilot, "/explain level:expert")
            await pilot.pause(0.2)
            error = str(app.query_one(MessageList).views[-1].query_one(".msg-error").render())
            assert "must be one of basic, intermediate, advanced" in error and "^^^^^^" in error
            assert app.query_one(ChatInput).text == "/explain level:expert"
            await type_and_send(pilot, "/analyze")
            await pilot.pause(0.2)
            assert "works on a file: open one in the code pane" in str(
                app.query_one(MessageList).views[-1].query_one(".msg-error").render())
            assert h.server.chat_requests() == []
            titles = [c.title for c in app.get_system_commands(app.screen)]
            for name in ("analyze", "explain", "refactor", "generate", "test", "review"):
                assert f"Operation: {name}" in titles
            assert "Pipeline: code_review" in titles and "Apply the last refactoring" in titles

    run(go())


def test_escape_cancels_a_running_pipeline(harness, project):
    async def go():
        h = harness([Action(chunks=[f"w{i} " for i in range(100)], delay=0.05)])
        app = h.app(project)
        async with app.run_test(size=(140, 44)) as pilot:
            await type_and_send(pilot, "/pipeline explain | test @src/calc.py")
            steps = app.query_one(StepsView)
            await wait_for(lambda: steps.steps and steps.steps[0].status == "running", pilot=pilot)
            await pilot.pause(0.3)
            await pilot.press("escape")
            await wait_for(lambda: not app.turn_running and steps.status == "cancelled", pilot=pilot)
            await pilot.pause(0.1)
            assert steps.steps[0].status == "cancelled" and steps.steps[1].status == "waiting"
            answer = app.query_one(MessageList).views[-1]
            assert answer.status == "cancelled" and answer.text.startswith("## 1 · explain\n\nw0 w1")
            # The step's partial answer is stored, as a cancelled question's is.
            trace = app.rt.store.traces.recent(1)[0]
            assert trace.provider == "pipeline" and trace.status == "cancelled"

    run(go())


def test_a_pipeline_streams_every_step_and_transformers_show_their_stage(harness, project):
    analysis = Action(chunks=['{"score": 0.4, "issues": [', '{"line": 1, "severity": "high", "message": "magic numbers"}',
                              ', {"line": 2, "severity": "low", "message": "short names"}]}'], delay=0.3)

    async def go():
        h = harness([analysis, analysis, Action(chunks=["It adds ", "numbers."])])
        app = h.app(project)
        async with app.run_test(size=(140, 44)) as pilot:
            app.show_file(project / "src" / "calc.py")
            await pilot.pause()
            streamed: list[str] = []
            shown: list[str] = []  # the chat's text after each write, while the run goes on
            into_view = app.ops._stream._write

            def write(text: str) -> None:
                streamed.append(text)
                into_view(text)
                shown.append(app.ops._view.text)

            app.ops._stream._write = write
            await type_and_send(pilot, "/pipeline analyze & analyze type:security | combine_results "
                                       "| filter_suggestions severity:high | explain")
            await finished(pilot)
            # The chat showed the first step's answer as it came, under its header, before the rest.
            assert '## 1 · analyze\n\n{"score": 0.4, "issues": [' in shown
            text = "".join(streamed)
            at = [text.index(f"## {n} · ") for n in range(1, 6)]
            assert at == sorted(at)
            # Each parallel answer whole in its block, the other's never in between.
            whole = "".join(analysis.chunks)
            assert text[at[0]:at[1]].count(whole) == 1 and text[at[1]:at[2]].count(whole) == 1
            assert "magic numbers _(analyze type:security)_" in text[at[3]:at[4]] and "It adds numbers." in text[at[4]:]
            steps = app.query_one(StepsView)
            assert [[n for n, _ in s.stages] for s in steps.steps[2:4]] == [["transform"], ["transform"]]
            assert "2 issue(s)" in steps.steps[3].summary  # the high one, from each analysis
            assert len(h.server.chat_requests()) == 3
            assert "short names" not in h.server.chat_requests()[2]["body"]["messages"][-1]["content"]

    run(go())
