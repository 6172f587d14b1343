"""The tool sources beyond the built-ins, as the registry takes them: one per enabled MCP
server, and the installed plugins. Nothing starts or imports here; the registry's
`ready()` loads them."""

from __future__ import annotations

from pathlib import Path

from coda_tui.config import Config
from coda_tui.tools.mcp import mcp_sources
from coda_tui.tools.plugins import PluginSource
from coda_tui.tools.registry import ToolSource


def external_sources(config: Config, project_root: Path | None = None) -> list[ToolSource]:
    """`project_root` is where stdio servers are started (relative paths they are given
    are the project's)."""
    return [*mcp_sources(config.mcp, project_root), PluginSource()]
