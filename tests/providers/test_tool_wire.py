"""How compatible servers' tool_calls deltas differ from OpenAI's, and the assembly that
copes: ids and names repeated in every piece (llama.cpp's server), no index at all, a name
sent in pieces; and which error bodies mean "no tools here"."""

from __future__ import annotations

from coda_tui.providers.base import ToolCall
from coda_tui.providers.tool_wire import (
    CallAssembler,
    openai_tool_choice,
    rejects_tools,
)


def assemble(*deltas: list) -> list[ToolCall]:
    calls = CallAssembler()
    for pieces in deltas:
        calls.add(pieces)
    return calls.finish()


def test_repeated_id_and_name_in_every_piece_are_taken_once():
    piece = lambda args: [{"index": 0, "id": "call__0_f_cmpl-1", "type": "function",
                           "function": {"name": "read_file", "arguments": args}}]
    assert assemble(piece('{"path"'), piece(': "a.py"'), piece("}")) == [
        ToolCall("call__0_f_cmpl-1", "read_file", '{"path": "a.py"}')]


def test_pieces_without_index_follow_their_id():
    out = assemble([{"id": "a", "function": {"name": "grep", "arguments": '{"pat'}}],
                   [{"function": {"arguments": 'tern": "x"}'}}],
                   [{"id": "b", "function": {"name": "git_status", "arguments": "{}"}}])
    assert out == [ToolCall("a", "grep", '{"pattern": "x"}'), ToolCall("b", "git_status", "{}")]


def test_a_name_in_pieces_is_joined_and_a_missing_id_is_made_up():
    out = assemble([{"index": 0, "function": {"name": "search_"}}], [{"index": 0, "function": {"name": "code"}}])
    assert out == [ToolCall("call_0", "search_code", "")]


def test_finish_empties_the_assembler():
    calls = CallAssembler()
    calls.add([{"index": 0, "id": "x", "function": {"name": "f", "arguments": "{}"}}])
    assert calls.pending and len(calls.finish()) == 1 and not calls.pending and calls.finish() == []


def test_tool_choice_in_openai_shape():
    assert [openai_tool_choice(c) for c in ("auto", "none", "required")] == ["auto", "none", "required"]
    assert openai_tool_choice("read_file") == {"type": "function", "function": {"name": "read_file"}}


def test_which_errors_refuse_tools():
    assert rejects_tools(400, '{"error": "registry.ollama.ai/library/gemma:2b does not support tools"}')
    assert rejects_tools(400, '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser')
    assert rejects_tools(422, '{"detail": [{"loc": ["body", "tools", 0], "msg": "field required"}]}')
    assert not rejects_tools(400, '{"error": {"message": "max_tokens is too large"}}')
    assert not rejects_tools(500, '{"error": "out of memory while loading the tool-call model"}')
