"""A scripted model and small tools for testing the tool loop: the model is a test double
(it says what each round's script says, and records what it was sent); the tools are real
Tool objects going through the real registry, policy and executor."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from coda_tui.core.runtime import Runtime
from coda_tui.core.tool_loop import Toolbox
from coda_tui.providers.base import ChatMessage, Provider, ToolCall, Usage
from coda_tui.providers.errors import ToolsUnsupported
from coda_tui.providers.types import TYPES, ProviderType
from coda_tui.tools.base import Preview, ToolContext, ToolError, ToolOutput, ToolSpec
from coda_tui.tools.policy import Policy
from coda_tui.tools.registry import ToolRegistry
from tests.conftest import write_config

UNSUPPORTED = "unsupported"


class ScriptedModel(Provider):
    """Each round yields the next script entry's items (str, ToolCall, Usage); an entry that
    is a callable gets (messages, tools) and returns the items; UNSUPPORTED raises
    ToolsUnsupported as a provider would. `sent` keeps every round's request."""

    def __init__(self, config, script: list) -> None:
        super().__init__(config)
        self.script = list(script)
        self.sent: list[tuple[list[ChatMessage], list[dict] | None]] = []

    async def stream(self, messages, *, model=None, max_tokens=None, temperature=None, on_retry=None, tools=None,
                     tool_choice=None):
        self.sent.append((list(messages), tools))
        entry = self.script.pop(0) if self.script else ["(no more script)"]
        if entry == UNSUPPORTED:
            if tools:
                raise ToolsUnsupported(self.name, "this model takes no tools")
            entry = self.script.pop(0)
        items = entry(messages, tools) if callable(entry) else entry
        for item in items:
            await asyncio.sleep(0)
            yield item
        yield Usage(10, len(items))

    def _stream_once(self, *args):  # stream() above replaces the retrying machinery
        raise NotImplementedError

    async def list_models(self) -> list[str]:
        return ["scripted"]


class ScriptedFile(ScriptedModel):
    """The scripted model as a provider type, for a real `coda` process: its script is the
    JSON file named by SCRIPTED_MODEL_SCRIPT (rounds of strings and {"call", "args", "id"}), and
    what each round was sent is appended to SCRIPTED_MODEL_SENT (one JSON line a round)."""

    def __init__(self, config) -> None:
        rounds = json.loads(Path(os.environ["SCRIPTED_MODEL_SCRIPT"]).read_text())
        script = [[i if isinstance(i, str) else call(i["call"], i.get("args", {}), i.get("id")) for i in r]
                  for r in rounds]
        super().__init__(config, script)

    async def stream(self, messages, **kw):
        with open(os.environ["SCRIPTED_MODEL_SENT"], "a") as log:
            log.write(json.dumps({"roles": [m.role for m in messages], "tools": [t["function"]["name"]
                                  for t in kw.get("tools") or ()], "last": messages[-1].content}) + "\n")
        async for item in super().stream(messages, **kw):
            yield item


def register_scripted_type() -> None:
    """Make `type = "scripted"` known, as a row of providers.types does for a real type."""
    TYPES["scripted"] = ProviderType("scripted", "tests.core.tool_doubles", "ScriptedFile", endpoint_field="base_url",
                                     default_endpoint="http://scripted.invalid", builtin="scripted",
                                     builtin_model="scripted")


def call(name: str, args: dict | str, id: str | None = None) -> ToolCall:
    text = args if isinstance(args, str) else json.dumps(args)
    return ToolCall(id or f"call_{name}_{abs(hash(text)) % 10_000}", name, text)


class EchoTool:
    """Read-only: returns its `text` argument."""

    spec = ToolSpec("echo", "Say the text back.", {"type": "object", "properties": {"text": {"type": "string"}},
                                                    "required": ["text"]}, read_only=True)

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        return f"echo: {args['text']}"


class MeetTool:
    """Read-only; each call waits until `parties` calls are running at once, so calls run one
    after another never get there (they fail after `patience_s` instead)."""

    def __init__(self, parties: int, patience_s: float = 20.0) -> None:
        self.spec = ToolSpec("meet", "Wait for the others.", {"type": "object", "properties": {"who": {"type": "string"}}},
                             read_only=True)
        self.parties = parties
        self.patience_s = patience_s
        self.running = 0
        self.all_here = asyncio.Event()

    async def call(self, args, ctx) -> str:
        self.running += 1
        if self.running >= self.parties:
            self.all_here.set()
        try:
            await asyncio.wait_for(self.all_here.wait(), self.patience_s)
        except TimeoutError:
            raise ToolError("the others never came") from None
        finally:
            self.running -= 1
        return f"met {args.get('who')}"


class SleepTool:
    """Read-only; sleeps `seconds` (a call to cancel, or to kill the process during)."""

    spec = ToolSpec("sleep", "Sleep a while.", {"type": "object", "properties": {"seconds": {"type": "number"}}},
                    read_only=True)

    def __init__(self, started: asyncio.Event | None = None, marker: Path | None = None) -> None:
        self.started = started
        self.marker = marker

    async def call(self, args, ctx) -> str:
        if self.started is not None:
            self.started.set()
        if self.marker is not None:
            self.marker.write_text("sleeping")
        await asyncio.sleep(args.get("seconds", 60))
        return "slept"


class WriteTool:
    """Not read-only: writes `text` to `path` in the project, after consent."""

    spec = ToolSpec("write_note", "Write a note file.",
                    {"type": "object", "properties": {"path": {"type": "string"}, "text": {"type": "string"}},
                     "required": ["path", "text"]}, read_only=False)

    async def preview(self, args, ctx) -> Preview:
        return Preview("write", f"write {args['path']}", f"+++ {args['path']}\n+{args['text']}")

    async def call(self, args, ctx) -> ToolOutput:
        target = ctx.project.root / args["path"]
        target.write_text(args["text"])
        return ToolOutput(f"wrote {len(args['text'])} characters to {args['path']}", [(target, None)])


def scripted_runtime(tmp_path: Path, script: list, tools: list, extra: str = "") -> tuple[Runtime, ScriptedModel]:
    """A runtime whose provider is the scripted model and whose tools are `tools`."""
    path = write_config(tmp_path, f"""
[general]
provider = "srv"
[providers.srv]
type = "openai"
base_url = "http://127.0.0.1:9/v1"
model = "scripted"
api_key = "sk-not-used-0123456789"
{extra}
""")
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    rt = Runtime(path, project=project)
    model = ScriptedModel(rt.config.provider("srv"), script)
    rt.providers._made["srv"] = model
    rt.__dict__["toolbox"] = Toolbox(ToolRegistry(tools), Policy(rt.config.tools),
                                     ToolContext(rt.project, output_chars=rt.config.tools.output_chars), rt.config.tools)
    return rt, model
