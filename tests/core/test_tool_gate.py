"""core.tool_gate: which questions earn the embedded model's search-first plan, judged on real
questions against a real project on disk (and its real index, where one is used)."""

from __future__ import annotations

import pytest

from coda_tui.config import Config, ProviderConfig
from coda_tui.context import select as context_select
from coda_tui.context.index import CodeIndex
from coda_tui.context.project import Project
from coda_tui.core import tool_gate

CLI = '''import argparse


def parse_args(argv=None):
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="demo")
    parser.add_argument("--verbose", action="store_true")
    return parser.parse_args(argv)


class ThemeLoader:
    def load(self, name):
        return name
'''


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "project"
    (root / "src" / "demo").mkdir(parents=True)
    (root / "src" / "demo" / "cli.py").write_text(CLI)
    (root / "utils.py").write_text("def add(a, b):\n    return a + b\n")
    (root / ".env").write_text("TOKEN=x\n")
    return Project(root)


@pytest.mark.parametrize("question", [
    "Say hi",
    "what is a closure?",
    "write a haiku",
    "write a function that reverses a string",
    "what does functools.lru_cache do?",
    "explain how `asyncio.gather` works",
    "what does helpers.py usually hold in a Python project?",
])
def test_questions_about_nothing_in_the_project_are_asked_without_tools(project, question):
    verdict = tool_gate.judge(question, project)
    assert not verdict.offer, verdict


@pytest.mark.parametrize("question, why", [
    ("which function parses the command line arguments? read it and tell me", 'asks "which function"'),
    ("where is the verbose flag defined?", 'asks "where is the verbose flag defined"'),
    ("what does this project do?", 'asks "this project"'),
    ("what does utils.py do", "names utils.py, in the project"),
    ("explain src/demo/cli.py", "names src/demo/cli.py, in the project"),
    ("what does parse_args return?", "names parse_args, in the project"),
    ("how is ThemeLoader used?", "names ThemeLoader, in the project"),
    ("what is git status saying?", 'asks "git status"'),
])
def test_questions_about_the_project_get_the_search_first_plan(project, question, why):
    verdict = tool_gate.judge(question, project)
    assert verdict.offer and verdict.why == why


def test_files_coda_may_not_read_are_not_a_reason(project, tmp_path):
    (project.root / "secrets.py").write_text("KEY = 'x'\n")  # protected by name (secrets.*)
    (tmp_path / "outside.py").write_text("x = 1\n")
    assert not tool_gate.judge("what does secrets.py do", project).offer
    assert not tool_gate.judge("what is in ../outside.py", project).offer
    assert tool_gate.judge("what is in src/demo/../../utils.py", project).offer


def test_with_an_index_hits_already_in_the_prompt_make_the_search_redundant(project, tmp_path):
    index = CodeIndex(tmp_path / "index.db", project)
    try:
        index.update()
        question = "what does parse_args return?"
        found = index.search(question, 12)
        chosen = context_select.select([], found, project.root, budget=1024, hits=4, question=question)
        assert [a.label_path for a in chosen.items] == ["src/demo/cli.py"]
        verdict = tool_gate.judge(question, project, chosen, found)
        assert not verdict.offer and verdict.why == "the context holds 1 search hit for what it names"
        # Named, but nothing the index holds: no scan of the files either.
        question = "what does parse_config return?"
        found = index.search(question, 12)
        chosen = context_select.select([], found, project.root, budget=1024, hits=4, question=question)
        verdict = tool_gate.judge(question, project, chosen, found)
        assert not verdict.offer and verdict.why == "what it names is not in the project"
        # A hit taken for a plain word of the question (the project's top-level `command`,
        # as click's) answers nothing it names: the search is still the plan.
        (project.root / "commands.py").write_text("def command(name):\n    return name\n")
        index.update()
        question = "which function parses the command line arguments? read it and tell me"
        found = index.search(question, 12)
        chosen = context_select.select([], found, project.root, budget=1024, hits=4, question=question)
        assert "defines command" in chosen.summary()
        assert tool_gate.judge(question, project, chosen, found) == tool_gate.Verdict(True, 'asks "which function"')
    finally:
        index.close()


def test_only_a_planned_provider_without_a_tool_choice_is_gated():
    config = Config()
    config.providers["small"] = ProviderConfig(name="small", type="llama_cpp")
    config.providers["chooser"] = ProviderConfig(name="chooser", type="llama_cpp", tool_choice="auto")
    config.providers["server"] = ProviderConfig(name="server", type="openai", base_url="http://localhost:1/v1")
    assert tool_gate.applies(config, "small")
    assert not tool_gate.applies(config, "chooser")
    assert not tool_gate.applies(config, "server")
