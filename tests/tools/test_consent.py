"""The built-in tools through the executor and the consent policy: read-only tools run at
once, edits and commands ask, and nothing is written without a yes."""

from __future__ import annotations

import json

from coda_tui.config import Config, ToolsConfig
from coda_tui.providers.base import ToolCall
from coda_tui.tools.executor import NO_TERMINAL, run_call
from coda_tui.tools.policy import Policy
from coda_tui.tools.setup import make_registry
from tests.tools.conftest import APP, run

EDIT = ToolCall("c1", "edit_file", json.dumps({"path": "src/app.py", "old": "return argv[1:]", "new": "return []"}))
COMMAND = ToolCall("c2", "run_command", json.dumps({"command": "touch ran.txt"}))
READ = ToolCall("c3", "read_file", json.dumps({"path": "src/util.py"}))


class Asker:
    def __init__(self, answer):
        self.answer = answer
        self.asked = []

    async def __call__(self, request):
        self.asked.append(request)
        return self.answer


def call(ctx, tool_call, policy, consent):
    return run(run_call(tool_call, make_registry(Config()), policy, ctx, consent))


def test_read_only_tools_run_without_asking(ctx):
    asker = Asker("no")
    result = call(ctx, READ, Policy(ToolsConfig()), asker)
    assert result.status == "ok" and "def helper" in result.content and asker.asked == []


def test_an_edit_asks_with_its_diff_and_writes_only_after_yes(ctx, root):
    policy = Policy(ToolsConfig())
    no = Asker("no")
    result = call(ctx, EDIT, policy, no)
    assert result.status == "denied" and result.content == "the user declined: edit src/app.py"
    assert (root / "src/app.py").read_text() == APP
    [request] = no.asked
    assert request.preview.kind == "edit" and "+    return []" in request.preview.body
    yes = Asker("yes")
    result = call(ctx, EDIT, policy, yes)
    assert result.status == "ok" and len(yes.asked) == 1
    assert "return []" in (root / "src/app.py").read_text()
    assert result.changed[0][0] == root / "src/app.py" and result.changed[0][1].read_text() == APP


def test_no_one_to_ask_means_no(ctx, root):
    result = call(ctx, COMMAND, Policy(ToolsConfig()), None)
    assert result.status == "denied" and result.content == NO_TERMINAL
    assert not (root / "ran.txt").exists()


def test_yes_for_all_runs_without_asking_but_deny_still_holds(ctx, root):
    result = call(ctx, COMMAND, Policy(ToolsConfig(), yes=True), None)
    assert result.status == "ok" and (root / "ran.txt").exists()
    result = call(ctx, EDIT, Policy(ToolsConfig(deny=["edit_file"]), yes=True), None)
    assert result.status == "denied" and "[tools] deny" in result.content
    assert (root / "src/app.py").read_text() == APP


def test_always_holds_for_the_rest_of_the_session(ctx, root):
    policy = Policy(ToolsConfig())
    always = Asker("always")
    assert call(ctx, COMMAND, policy, always).status == "ok"
    (root / "ran.txt").unlink()
    assert call(ctx, COMMAND, policy, always).status == "ok"
    assert len(always.asked) == 1 and (root / "ran.txt").exists()
    assert call(ctx, EDIT, policy, None).status == "denied"  # "always" was for run_command only


def test_rules_from_the_config(ctx, root):
    assert call(ctx, COMMAND, Policy(ToolsConfig(allow=["run_command"])), None).status == "ok"
    asker = Asker("no")
    assert call(ctx, READ, Policy(ToolsConfig(ask=["read_file"])), asker).status == "denied"
    assert asker.asked and asker.asked[0].preview.kind == "other"
    assert call(ctx, READ, Policy(ToolsConfig(deny=["*"])), None).status == "denied"


def test_an_edit_that_cannot_apply_is_reported_without_asking(ctx, root):
    asker = Asker("yes")
    bad = ToolCall("c4", "edit_file", json.dumps({"path": ".env", "old": "a", "new": "b"}))
    result = call(ctx, bad, Policy(ToolsConfig()), asker)
    assert result.status == "error" and "protected pattern" in result.content and asker.asked == []
