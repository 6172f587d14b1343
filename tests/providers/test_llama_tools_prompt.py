"""The embedded model's tools prompt, without the model: every message reaches it (tool
results included, which llama-cpp-python's own handler drops), tools a line each."""

from __future__ import annotations

from types import SimpleNamespace

from coda_tui.providers.base import ChatMessage, ToolCall
from coda_tui.providers.llama_tools import is_chatml, render, run_round
from tests.providers.test_tool_calls import TOOLS


def test_transcript_keeps_calls_and_results_in_chatml():
    call = ToolCall("call_0", "search_code", '{"query": "argv"}')
    prompt = render([ChatMessage("system", "Be brief."), ChatMessage("user", "where?"),
                     ChatMessage("assistant", "", tool_calls=(call,)),
                     ChatMessage("tool", "cli.py:41 def parse_args", tool_call_id="call_0", name="search_code")], TOOLS)
    assert prompt.startswith("<|im_start|>system\nBe brief.\n\nYou have access to the following functions:\n")
    assert prompt.count("<|im_start|>system") == 1
    assert "functions.read_file: Read a file. Arguments: path (string).\n" in prompt
    assert "functions.search_code: Search the code. Arguments: query (string, optional)." in prompt
    assert prompt.endswith("<|im_start|>user\nwhere?<|im_end|>\n"
                           '<|im_start|>assistant\nfunctions.search_code:\n{"query": "argv"}<|im_end|>\n'
                           "<|im_start|>tool\ncli.py:41 def parse_args<|im_end|>\n<|im_start|>assistant\n")


def test_earlier_answers_are_marked_as_messages():
    prompt = render([ChatMessage("user", "hi"), ChatMessage("assistant", "Hello."), ChatMessage("user", "and?")], TOOLS)
    assert "<|im_start|>assistant\nmessage:\nHello.<|im_end|>\n" in prompt


def test_only_chatml_models_are_offered_tools():
    assert is_chatml(SimpleNamespace(metadata={"tokenizer.chat_template": "{{'<|im_start|>' + m.role}}"}))
    assert is_chatml(SimpleNamespace(metadata={}))
    assert not is_chatml(SimpleNamespace(metadata={"tokenizer.chat_template": "[INST] {{ m.content }} [/INST]"}))


def test_a_planned_call_is_made_with_its_arguments_and_no_model_run():
    emitted = []
    usage = run_round(None, [ChatMessage("user", "where is make_context defined?")], TOOLS, "search_code",
                      max_tokens=64, temperature=0.2, repeat_penalty=1.1, emit=lambda kind, value: emitted.append((kind, value)),
                      stopped=lambda: False, planned={"query": "where is make_context defined?"})
    assert emitted == [("call", ToolCall("call_0", "search_code", '{"query": "where is make_context defined?"}'))]
    assert (usage.prompt_tokens, usage.completion_tokens) == (0, 0)


def test_a_round_made_to_answer_lists_only_the_functions_its_transcript_calls():
    prompts: list[str] = []

    class Recorder:

        def tokenize(self, data, add_bos=False, special=True):
            return data.split()

        def create_completion(self, prompt, **kw):
            prompts.append(prompt)
            return iter([{"choices": [{"text": "It is in cli.py."}]}])

    call = ToolCall("call_0", "search_code", '{"query": "argv"}')
    messages = [ChatMessage("user", "where?"), ChatMessage("assistant", "", tool_calls=(call,)),
                ChatMessage("tool", "cli.py:41 def parse_args", tool_call_id="call_0", name="search_code")]
    emitted = []
    for used_only in (True, False):
        run_round(Recorder(), messages, TOOLS, "none", max_tokens=16, temperature=0.2, repeat_penalty=1.1,
                  emit=lambda kind, value: emitted.append((kind, value)), stopped=lambda: False,
                  list_used_only=used_only)
    brief, full = prompts
    assert "functions.search_code: Search the code." in brief and "functions.read_file:" not in brief
    assert "functions.read_file:" in full
    assert brief.endswith("<|im_start|>assistant\nmessage:\n") and ("text", "It is in cli.py.") in emitted
