"""Tool calls from the embedded model, constrained by grammars so even a 135M model writes
well-formed ones.

The protocol is llama-cpp-python's `chatml-function-calling` handler's (the tools listed
in the system message as `functions.NAME:` with their JSON schema; the model answers
`message:` then text, or `functions.NAME:` then the arguments, which a grammar built from
that tool's schema constrains). The handler itself is not used, because in 0.3.x it cannot
stream a call the model chose itself ("Automatic streaming tool choice is not supported"),
constrains a streamed `message:` answer with the grammar meant for the next call name (the
text comes out empty), writes nothing for a `tool` message (the result never reaches the
model), and lists tools only when the conversation has a system message. Here: one round is
a short constrained choice, then either the text streamed unconstrained or one call.

Calls are one per round: a second call would cost another choice (~0.3 s on two cores)
and a small model rarely wants one; the loop asks again after the results.

`tool_choice` (see Provider.stream): "auto" lets the model choose between a message and
a call; "required" leaves it only the calls; a tool's name forces that call; "none" makes
it answer from the transcript as it stands. What SmolLM2-135M does with each is measured in
LlamaCppProvider.tool_choice_for, which picks one per round.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache

from coda_tui.providers.base import ChatMessage, ToolCall, Usage
from coda_tui.providers.repetition import RepeatGuard

END = "<|im_end|>"
# As short as the handler's own wording allows: the model has a 4k window.
_INSTRUCTIONS = (
    "\n\nYou can answer with a message or call a function."
    "\nTo answer, begin with 'message:' and write the answer."
    "\nTo call a function, begin with 'functions.<function_name>:' and write its arguments as JSON:"
    '\nfunctions.<function_name>:\n{ "arg1": "value1" }'
)
# Arguments are short; a model that keeps writing inside a JSON string is stopped here.
MAX_ARGUMENT_TOKENS = 256


def is_chatml(llm) -> bool:
    """Does the loaded model speak ChatML (the protocol's format)? A GGUF without a template
    is given the benefit of the doubt: llama.cpp itself falls back to ChatML for it."""
    template = (getattr(llm, "metadata", None) or {}).get("tokenizer.chat_template", "")
    return not template or "<|im_start|>" in template


def render(messages: list[ChatMessage], tools: list[dict]) -> str:
    """The ChatML prompt with the tools described in the system message."""
    listing = "".join(_describe(t) for t in tools)
    system = next((m.content for m in messages if m.role == "system"), "")
    head = f"{system}\n\n" if system else ""
    out = [f"<|im_start|>system\n{head}You have access to the following functions:{listing}{_INSTRUCTIONS}{END}\n"]
    for m in messages:
        if m.role == "system":
            continue
        if m.role == "tool":
            out.append(f"<|im_start|>tool\n{m.content}{END}\n")
        elif m.role == "assistant":
            body = f"message:\n{m.content}\n" if m.content else ""
            body += "".join(f"functions.{c.name}:\n{c.arguments}\n" for c in m.tool_calls)
            out.append(f"<|im_start|>assistant\n{body.rstrip()}{END}\n")
        else:
            out.append(f"<|im_start|>{m.role}\n{m.content}{END}\n")
    out.append("<|im_start|>assistant\n")
    return "".join(out)


def _describe(tool: dict) -> str:
    """One line a tool: its description and its arguments by name and type. Not the JSON
    schema the handler prints: that is twice the tokens (9 built-in tools: ~650), and the
    grammar, not the prompt, holds the model to the schema."""
    fn = tool.get("function") or {}
    about = " ".join(str(fn.get("description") or "").split())
    params = fn.get("parameters") or {}
    required = set(params.get("required") or ())
    args = ", ".join(f"{name} ({_type(spec)}{'' if name in required else ', optional'})"
                     for name, spec in (params.get("properties") or {}).items())
    return f"\nfunctions.{fn.get('name')}: {about} Arguments: {args or 'none'}."


def _type(spec) -> str:
    kind = spec.get("type", "any") if isinstance(spec, dict) else "any"
    return "/".join(kind) if isinstance(kind, list) else str(kind)


@lru_cache(maxsize=64)
def _arguments_grammar(schema: str):
    from llama_cpp import llama_grammar

    try:
        return llama_grammar.LlamaGrammar.from_json_schema(schema, verbose=False)
    except Exception:  # noqa: BLE001 - a schema the converter cannot take: any JSON object
        return llama_grammar.LlamaGrammar.from_string(llama_grammar.JSON_GBNF, verbose=False)


def _choice_grammar(names: tuple[str, ...], message: bool):
    from llama_cpp import llama_grammar

    options = " | ".join(json.dumps(f"functions.{n}:") for n in names)
    root = "functions | \"message:\"" if message else "functions"
    return llama_grammar.LlamaGrammar.from_string(f"root ::= {root}\nfunctions ::= {options}\n", verbose=False)


def run_round(
    llm,
    messages: list[ChatMessage],
    tools: list[dict],
    tool_choice: str | None,
    *,
    max_tokens: int,
    temperature: float,
    repeat_penalty: float,
    emit: Callable[[str, object], None],
    stopped: Callable[[], bool],
    planned: dict | None = None,
    list_used_only: bool = False,
) -> Usage:
    """One model round with tools, in the calling (worker) thread: text goes to
    emit("text", …), a call to emit("call", ToolCall); returns the round's Usage. With
    `planned` and a tool's name as `tool_choice`, that call is made with those arguments
    and the model is not run (LlamaCppProvider.tool_choice_for says why). With
    `list_used_only`, a round made to answer ("none") describes only the functions its
    transcript calls: the others are ~35 tokens each, all read before the first token, when
    no earlier round of the turn has put them in the model's cache."""
    by_name = {t["function"]["name"]: t for t in tools if (t.get("function") or {}).get("name")}
    if planned is not None and tool_choice in by_name:
        emit("call", ToolCall("call_0", tool_choice, json.dumps(planned)))
        return Usage(0, 0)
    listed = tools
    if list_used_only and tool_choice == "none":
        used = {c.name for m in messages for c in m.tool_calls}
        listed = [t for name, t in by_name.items() if name in used]
    prompt = render(messages, listed)
    prompt_tokens = len(llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))
    sampling = {"temperature": temperature, "repeat_penalty": repeat_penalty, "stream": True}
    if tool_choice in by_name:
        chosen = f"functions.{tool_choice}:"
    elif tool_choice == "none" or not by_name:
        # Answer now, from what the earlier calls found (still in the tools' transcript).
        chosen = "message:"
    else:
        grammar = _choice_grammar(tuple(by_name), message=tool_choice != "required")
        # Greedy, as the handler does it: the choice is the model's best guess, not a sample.
        chosen = "".join(c["choices"][0]["text"] for c in llm.create_completion(
            prompt, max_tokens=48, temperature=0.0, repeat_penalty=repeat_penalty, stream=True, grammar=grammar))
        chosen = chosen.strip()
    completion = 0
    if chosen.startswith("functions.") and chosen[len("functions."):].rstrip(":") in by_name:
        name = chosen[len("functions."):].rstrip(":")
        parameters = by_name[name]["function"].get("parameters") or {"type": "object"}
        pieces = []
        for chunk in llm.create_completion(
            f"{prompt}functions.{name}:\n", max_tokens=min(max_tokens, MAX_ARGUMENT_TOKENS), stop=[END],
            grammar=_arguments_grammar(json.dumps(parameters, sort_keys=True)), **sampling,
        ):
            if stopped():
                return Usage(prompt_tokens, completion)
            pieces.append(chunk["choices"][0]["text"])
            completion += 1
        emit("call", ToolCall("call_0", name, "".join(pieces).strip()))
        return Usage(prompt_tokens, completion)
    guard = RepeatGuard()
    for chunk in llm.create_completion(f"{prompt}message:\n", max_tokens=max_tokens, stop=[END], **sampling):
        if stopped():
            break
        text = chunk["choices"][0]["text"]
        if text:
            completion += 1
            emit("text", text)
            if guard.feed(text):
                break
    return Usage(prompt_tokens, completion)
