"""One registry for every tool the model may be offered, whatever its source.

Built-in tools are there at once. Others come from sources (MCP servers, plugins) that may
be slow or broken: `ready()` loads them once, concurrently, each under its own timeout, and
a source that fails leaves one line in `problems` and no tools — the rest keep working.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Iterable, Protocol

from coda_tui.tools.base import Tool, ToolSpec, wire_name

log = logging.getLogger(__name__)


class ToolSource(Protocol):
    """Where tools other than the built-ins come from (an MCP server, the plugins)."""

    name: str
    # Optional: `problems`, lines about tools it left out, read after `tools()` returns.

    async def tools(self) -> list[Tool]:
        """Start (if need be) and list the tools; raise CodaError with one clear line on failure."""
        ...

    async def aclose(self) -> None: ...


class ToolRegistry:
    def __init__(self, tools: Iterable[Tool] = (), sources: Iterable[ToolSource] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        self._by_wire: dict[str, str] = {}
        self.sources = list(sources)
        # One line per source that could not give its tools (server, what happened).
        self.problems: list[str] = []
        self._ready: asyncio.Task | None = None
        for tool in tools:
            self.add(tool)

    def add(self, tool: Tool) -> None:
        name = tool.spec.name
        if name in self._tools or tool.spec.wire_name in self._by_wire:
            # A plugin or server cannot shadow a built-in (or an earlier source's tool).
            self.problems.append(f"tool {name} from {tool.spec.source} ignored: "
                                 f"{self._tools[self._by_wire.get(tool.spec.wire_name, name)].spec.source}"
                                 " already has that name")
            return
        self._tools[name] = tool
        self._by_wire[tool.spec.wire_name] = name

    def get(self, name: str) -> Tool | None:
        """By its name or by the name the model was shown (see ToolSpec.wire_name)."""
        return self._tools.get(name) or self._tools.get(self._by_wire.get(wire_name(name), ""))

    def specs(self) -> list[ToolSpec]:
        return [t.spec for t in self._tools.values()]

    def schemas(self, names: Iterable[str] | None = None) -> list[dict]:
        wanted = None if names is None else set(names)
        return [t.spec.schema() for t in self._tools.values() if wanted is None or t.spec.name in wanted]

    async def ready(self) -> None:
        """Load every source's tools, once; later calls wait for the same load."""
        if self._ready is None:
            self._ready = asyncio.ensure_future(self._load())
        await asyncio.shield(self._ready)

    async def _load(self) -> None:
        results = await asyncio.gather(*(self._from(s) for s in self.sources))
        for tools in results:
            for tool in tools:
                self.add(tool)

    async def _from(self, source: ToolSource) -> list[Tool]:
        from coda_tui.errors import CodaError

        try:
            tools = await source.tools()
            # A source that works may still have left some of its tools out (a bad schema).
            self.problems += getattr(source, "problems", [])
            return tools
        except CodaError as exc:
            self.problems.append(exc.render())
        except Exception as exc:  # noqa: BLE001 - a broken source must not take coda down
            log.exception("tool source %s failed", source.name)
            self.problems.append(f"{source.name}: {type(exc).__name__}: {exc}")
        return []

    async def aclose(self) -> None:
        for source in self.sources:
            try:
                await source.aclose()
            except Exception:  # noqa: BLE001 - closing is best effort
                log.exception("closing tool source %s", source.name)
