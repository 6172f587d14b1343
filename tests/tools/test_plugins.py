"""Plugin tools: two packages from tests/fixtures installed with pip into a temporary
folder — one offering tools through the coda_tui.tools entry-point group, one broken in
each way a plugin can be — then loaded by PluginSource, in this process and in a child
process that finds them through PYTHONPATH."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from coda_tui.config import ToolsConfig
from coda_tui.context.project import Project
from coda_tui.providers.base import ToolCall
from coda_tui.tools.base import ToolContext
from coda_tui.tools.executor import run_call
from coda_tui.tools.plugins import PluginSource
from coda_tui.tools.policy import Policy
from coda_tui.tools.registry import ToolRegistry

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ROOT = FIXTURES.parent.parent
MODULES = ("coda_plugin_demo", "coda_plugin_broken")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """Both packages installed with pip (built from copies: a build leaves files behind)."""
    work = tmp_path_factory.mktemp("plugins")
    for name in MODULES:
        shutil.copytree(FIXTURES / name, work / name)
    target = work / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(target), *(str(work / n) for n in MODULES)],
                   check=True, capture_output=True, timeout=300)
    return target


@pytest.fixture
def installed(site, monkeypatch):
    monkeypatch.syspath_prepend(str(site))
    yield site
    for name in MODULES:
        sys.modules.pop(name, None)


@pytest.fixture
def project(tmp_path) -> Project:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "notes.txt").write_text("three little words\n")
    (tmp_path / "outside.txt").write_text("secret outside\n")
    return Project(root)


def test_plugin_tools_load_and_broken_plugins_are_one_line_each(installed):
    source = PluginSource()
    tools = {t.spec.name: t.spec for t in asyncio.run(source.tools())}
    assert set(tools) == {"wordcount", "stamp", "shout", "nap"}
    assert tools["wordcount"].read_only and not tools["stamp"].read_only
    assert {s.source for s in tools.values()} == {"plugin:coda-plugin-demo"}
    assert tools["wordcount"].parameters["required"] == ["path"]
    problems = sorted(source.problems)
    assert len(problems) == 5 and all(p.startswith("plugin coda-plugin-broken (") and p.endswith("; skipped")
                                      for p in problems)
    text = "\n".join(problems)
    assert "ModuleNotFoundError: No module named 'coda_plugin_broken_gone'" in text
    assert "RuntimeError: the plugin's factory failed" in text
    assert "int is not a tool" in text
    assert "tool broken_tool: its parameters is not a JSON schema of type object" in text
    assert "tool broken_tool: call must be an async function" in text


def test_plugin_tools_run_through_the_executor_with_consent_and_the_sandbox(installed, project):
    asked = []

    async def consent(request):
        asked.append(request)
        return "yes"

    async def go():
        registry = ToolRegistry(sources=[PluginSource()])
        await registry.ready()
        assert len(registry.problems) == 5
        ctx = ToolContext(project=project)
        policy = Policy(ToolsConfig())

        async def run(name, **args):
            return await run_call(ToolCall(id="c", name=name, arguments=json.dumps(args)), registry, policy, ctx, consent)

        counted = await run("wordcount", path="notes.txt")
        assert (counted.status, counted.content) == ("ok", "3 words") and asked == []
        missing = await run("wordcount", path="nope.txt")
        assert missing.status == "error" and missing.content == "wordcount: no file nope.txt"
        outside = await run("wordcount", path="../outside.txt")
        assert outside.status == "error" and "outside the project" in outside.content
        stamped = await run("stamp", path="notes.txt", line="signed")
        assert stamped.status == "ok" and (project.root / "notes.txt").read_text().endswith("signed\n")
        assert len(asked) == 1 and asked[0].spec.source == "plugin:coda-plugin-demo"
        assert json.loads(asked[0].preview.body) == {"path": "notes.txt", "line": "signed"}
        denied = await run_call(ToolCall(id="d", name="shout", arguments='{"text": "hi"}'), registry,
                                Policy(ToolsConfig(deny=["shout"])), ctx, consent)
        assert denied.status == "denied"
        ctx.command_timeout_s = 0.5
        napped = await run("nap")
        assert napped.status == "error" and napped.content == "nap: no answer within 0.5 s"
        await registry.aclose()

    asyncio.run(go())


def test_a_child_process_finds_the_plugins_through_pythonpath(site, isolated):
    # Logging set up as coda's runtime does: a broken plugin's traceback goes to the log file.
    script = ("import asyncio, json; from coda_tui import logs; from coda_tui.redact import Redactor; "
              "from coda_tui.tools.plugins import PluginSource; logs.setup(Redactor()); s = PluginSource(); "
              "t = asyncio.run(s.tools()); print(json.dumps([sorted(x.spec.name for x in t), len(s.problems)]))")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(ROOT)]))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120,
                         check=False)
    assert json.loads(out.stdout) == [["nap", "shout", "stamp", "wordcount"], 5]
    assert out.stderr == ""
    log = (isolated / "data" / "logs" / "coda.log").read_text()
    assert "No module named 'coda_plugin_broken_gone'" in log and "Traceback" in log


def test_the_plugins_are_a_tool_source_only_when_some_package_declares_tools(installed):
    from coda_tui.config import Config
    from coda_tui.tools.sources import external_sources

    assert [type(s).__name__ for s in external_sources(Config())] == ["PluginSource"]


def test_without_plugins_or_servers_there_is_no_source_to_load():
    from coda_tui.config import Config
    from coda_tui.tools.sources import external_sources

    assert external_sources(Config()) == []
