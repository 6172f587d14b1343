"""The embedded model's settings: thread counts chosen for the cores coda may use, and
generation that stops when the model loops. llama.cpp itself is replaced by a recorder,
so these run without the model."""

from __future__ import annotations

import os
from typing import ClassVar

import pytest

from coda_tui import config as config_mod
from coda_tui.config import ProviderConfig
from coda_tui.providers import llama_cpp
from coda_tui.providers.repetition import RepeatGuard
from coda_tui.providers.types import TYPES
from tests.conftest import write_config
from tests.providers.helpers import collect, provider


class FakeLlama:
    """Records how it was made and called; streams `answer` piece by piece."""

    made: ClassVar[list[dict]] = []
    calls: ClassVar[list[dict]] = []
    answer: ClassVar[list[str]] = []

    def __init__(self, **kwargs) -> None:
        FakeLlama.made.append(kwargs)
        self.n_tokens = 0

    def create_chat_completion(self, **kwargs):
        FakeLlama.calls.append(kwargs)
        for piece in FakeLlama.answer[: kwargs["max_tokens"]]:
            self.n_tokens += 1
            yield {"choices": [{"delta": {"content": piece}}]}


@pytest.fixture
def fake_llama(monkeypatch, tmp_path):
    FakeLlama.made, FakeLlama.calls, FakeLlama.answer = [], [], ["Hello", "."]
    fake_module = type("llama_cpp", (), {"Llama": FakeLlama})
    monkeypatch.setattr(llama_cpp, "_import_llama", lambda: fake_module)
    monkeypatch.setattr(llama_cpp.importlib.util, "find_spec", lambda name: object())
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    return str(gguf)


def test_threads_leave_a_core_to_the_app(fake_llama, monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    collect(provider("llama_cpp", model_path=fake_llama))
    made = FakeLlama.made[-1]
    # Two cores: one for the model, for generating and for reading the prompt alike.
    assert (made["n_threads"], made["n_threads_batch"]) == (1, 1)


def test_threads_follow_the_allowed_cores_not_the_machine(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(6)))
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert llama_cpp.thread_counts(ProviderConfig(name="t", type="llama_cpp")) == (5, 5)
    assert llama_cpp.thread_counts(ProviderConfig(name="t", type="llama_cpp"), cores=1) == (1, 1)


def test_threads_are_configurable_under_providers_local(tmp_path, fake_llama):
    path = write_config(tmp_path, f'[providers.local]\nthreads = 3\nbatch_threads = 2\nmodel_path = "{fake_llama}"\n')
    pc = config_mod.load(path, env={}).provider("local")
    assert pc.type == "llama_cpp" and llama_cpp.thread_counts(pc) == (3, 2)
    collect(llama_cpp.LlamaCppProvider(pc))
    assert (FakeLlama.made[-1]["n_threads"], FakeLlama.made[-1]["n_threads_batch"]) == (3, 2)


def test_embedded_defaults_are_sized_for_a_small_model(fake_llama):
    pc = ProviderConfig(name="local", type="llama_cpp")
    assert pc.max_tokens == TYPES["llama_cpp"].max_tokens < 1024
    assert ProviderConfig(name="o", type="openai").max_tokens == 1024
    collect(provider("llama_cpp", model_path=fake_llama))
    assert FakeLlama.calls[-1]["repeat_penalty"] == llama_cpp.DEFAULT_REPEAT_PENALTY > 1.0


def test_a_looping_answer_is_cut_short(fake_llama):
    FakeLlama.answer = ["Here is ", "a function.\n"] + ["You can use it ", "to reverse a string. "] * 400
    chunks, usage, _ = collect(provider("llama_cpp", model_path=fake_llama, max_tokens=800))
    text = "".join(chunks)
    assert len(chunks) < 20 and text.startswith("Here is a function.")
    assert text.count("to reverse a string.") == 3
    assert usage.completion_tokens == len(chunks)


def test_repeat_guard_lets_ordinary_answers_through():
    answer = (
        "```python\ndef reverse(s):\n    return s[::-1]\n```\n\n"
        + "".join(f"print(reverse('word number {i}'))\n" for i in range(12))
        + "=" * 60 + "\n" + "}\n" * 10 + "| --- " * 10 + "\n" + "ab, " * 20
    )
    guard = RepeatGuard()
    assert not any(guard.feed(answer[i:i + 3]) for i in range(0, len(answer), 3))


def test_repeat_guard_catches_a_repeated_paragraph_with_varying_lines():
    guard = RepeatGuard()
    looped = [guard.feed(f"Note {i}: the string is reversed here by slicing.\nIt returns a new string with the characters in reverse.\n") for i in range(10)]
    assert looped.index(True) == 3


def test_the_plans_search_takes_the_question_as_its_query_unless_a_tool_choice_is_set():
    from coda_tui.providers.base import ChatMessage

    messages = [ChatMessage("system", "Be brief."), ChatMessage("user", "  where is make_context defined? "),
                ChatMessage("assistant", "", tool_calls=())]
    plain = llama_cpp.LlamaCppProvider(ProviderConfig(name="local", type="llama_cpp"))
    assert plain._planned(messages, "search_code") == {"query": "where is make_context defined?"}
    assert plain._planned(messages, "none") is None and plain._planned(messages, "required") is None
    assert plain._planned([ChatMessage("user", "x" * 1000)], "search_code")["query"] == "x" * llama_cpp.PLANNED_QUERY_CHARS
    chooser = llama_cpp.LlamaCppProvider(ProviderConfig(name="local", type="llama_cpp", tool_choice="auto"))
    assert chooser._planned(messages, "search_code") is None
