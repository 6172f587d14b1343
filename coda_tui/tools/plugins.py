"""Tools from installed Python packages, declared through the entry-point group
`coda_tui.tools`.

A package offers tools by naming an object in its pyproject.toml:

    [project.entry-points."coda_tui.tools"]
    wordcount = "coda_wordcount:tool"

The object is either a tool, or a callable taking no arguments that returns a list of
tools. A tool is any object with:

    name: str          how the model calls it: letters, digits, _ - . (unique across coda)
    description: str   one line the model reads to decide when to call it
    parameters: dict   a JSON schema of type "object" for its arguments
    read_only: bool    True: runs at once; False (the default): the user is asked first,
                       shown the arguments (or what `preview` returns)
    async def call(self, args: dict, ctx) -> str
                       the text goes back to the model; raise
                       coda_tui.tools.base.ToolError("why") for a failure the model
                       should read. `ctx` is a coda_tui.tools.base.ToolContext
                       (ctx.project.root is the project; ctx.project.check(path) refuses
                       protected files and paths outside it).
    async def preview(self, args, ctx) -> coda_tui.tools.base.Preview   (optional)

An object that already keeps coda's Tool protocol (a `spec: ToolSpec`) is taken as it is.
The tools' source is "plugin:DISTRIBUTION"; consent rules name them like any tool. As for
MCP servers, string arguments that name paths are held to the project sandbox before the
call, and a call is bounded by [tools] command_timeout_s. A plugin that fails to import, or whose object is not a usable tool, is one line in
the registry's problems and is skipped; the others load.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import inspect
import json
import logging
import re
from typing import Any

from coda_tui.tools.arguments import refuse_outside, schema_problem
from coda_tui.tools.base import Preview, ToolContext, ToolError, ToolOutput, ToolSpec

log = logging.getLogger(__name__)

GROUP = "coda_tui.tools"
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")


class PluginSource:
    """Every installed package's tools, loaded (imported) once, off the event loop."""

    name = "plugins"

    def __init__(self) -> None:
        # One line per plugin that could not be loaded.
        self.problems: list[str] = []

    async def tools(self) -> list[PluginTool]:
        return await asyncio.to_thread(self._load)

    def _load(self) -> list[PluginTool]:
        tools: list[PluginTool] = []
        for ep in importlib.metadata.entry_points(group=GROUP):
            dist = ep.dist.name if ep.dist is not None else ep.module
            try:
                tools += [PluginTool(item, dist) for item in _items(ep.load())]
            except Exception as exc:  # a broken plugin must not stop the others
                why = exc.message if isinstance(exc, ToolError) else f"{type(exc).__name__}: {exc}"
                line = f"plugin {dist} ({ep.name} = {ep.value}): {why}; skipped"
                log.warning("%s", line, exc_info=not isinstance(exc, ToolError))
                self.problems.append(line)
        return tools

    async def aclose(self) -> None:
        """Nothing to close: plugins run in coda's process."""


def _items(obj: Any) -> list[Any]:
    """The tools an entry point's object stands for (itself, or what its factory returns)."""
    if not inspect.isclass(obj) and _looks_like_tool(obj):
        return [obj]
    # A class is a factory of one tool.
    if callable(obj) and not inspect.iscoroutinefunction(obj):
        made = obj()
        made = list(made) if isinstance(made, (list, tuple)) else [made]
        bad = [m for m in made if not _looks_like_tool(m)]
        if bad or not made:
            raise ToolError(f"its factory returned {type(bad[0]).__name__ if bad else 'no tools'}, not tools "
                            "(objects with name, description, parameters and an async call)")
        return made
    raise ToolError(f"{type(obj).__name__} is not a tool (an object with name, description, parameters and an "
                    "async call) nor a factory returning a list of them")


def _looks_like_tool(obj: Any) -> bool:
    return callable(getattr(obj, "call", None)) and (
        isinstance(getattr(obj, "spec", None), ToolSpec) or hasattr(obj, "name"))


class PluginTool:
    """A plugin's tool as the registry sees it; checks what it was given when made."""

    def __init__(self, obj: Any, dist: str) -> None:
        self.obj = obj
        self.dist = dist
        spec = getattr(obj, "spec", None)
        if isinstance(spec, ToolSpec):
            name, description, parameters, read_only = spec.name, spec.description, spec.parameters, spec.read_only
        else:
            name, description = getattr(obj, "name", None), getattr(obj, "description", None)
            parameters, read_only = getattr(obj, "parameters", None), getattr(obj, "read_only", False)
        if not isinstance(name, str) or not _NAME.match(name):
            raise ToolError(f"tool name {name!r} is not usable (letters, digits, _ - . and at most 64 of them)")
        if not isinstance(description, str) or not description.strip():
            raise ToolError(f"tool {name} has no description")
        problem = schema_problem(parameters)
        if problem:
            raise ToolError(f"tool {name}: its parameters {problem}")
        if not isinstance(read_only, bool):
            raise ToolError(f"tool {name}: read_only must be True or False")
        if not inspect.iscoroutinefunction(obj.call):
            raise ToolError(f"tool {name}: call must be an async function")
        self.spec = ToolSpec(name, " ".join(description.split()), parameters, read_only, f"plugin:{dist}")

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str | ToolOutput:
        refuse_outside(self.spec.name, args, ctx.project)
        try:
            # Bounded like a command: a plugin that never answers must not hold the turn.
            async with asyncio.timeout(ctx.command_timeout_s):
                out = await self.obj.call(args, ctx)
        except TimeoutError:
            raise ToolError(f"{self.spec.name}: no answer within {ctx.command_timeout_s:g} s") from None
        if isinstance(out, (str, ToolOutput)):
            return out
        return json.dumps(out, ensure_ascii=False, default=str)

    async def preview(self, args: dict[str, Any], ctx: ToolContext) -> Preview:
        refuse_outside(self.spec.name, args, ctx.project)
        if inspect.iscoroutinefunction(getattr(self.obj, "preview", None)):
            return await self.obj.preview(args, ctx)
        return Preview("other", f"{self.spec.name} (plugin {self.dist})", json.dumps(args, indent=2, ensure_ascii=False))
