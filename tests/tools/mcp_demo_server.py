"""A real MCP server, written with the mcp SDK, for the tests of coda_tui/tools/mcp.py.

    python mcp_demo_server.py [--bad-schema] [--exit-at-start] [--banner] [--http PORT]

Its tools: echo and pid (read-only), write_note (changes a file: not read-only), crash
(the process dies mid-call, after a line on stderr), hang (never answers), fail (answers
with isError). --bad-schema makes `broken`'s input schema invalid; --exit-at-start writes a
line to stderr and exits before speaking MCP; --banner first prints a line on stdout that
is not JSON-RPC (as careless servers do); --http serves streamable HTTP on 127.0.0.1.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

if "--banner" in sys.argv:
    print("Welcome to the demo server! (a line on stdout that is not JSON-RPC)", flush=True)

if "--exit-at-start" in sys.argv:
    print("demo server: cannot open its database (simulated)", file=sys.stderr, flush=True)
    sys.exit(3)

app = MCPServer("demo")


@app.tool(annotations=ToolAnnotations(read_only_hint=True))
def echo(text: str) -> str:
    """Say the text back."""
    return f"echo: {text}"


@app.tool(annotations=ToolAnnotations(read_only_hint=True))
def pid() -> str:
    """This server's process id."""
    return str(os.getpid())


@app.tool()
def write_note(path: str, text: str) -> str:
    """Write a note into a file (relative to the server's working directory)."""
    Path(path).write_text(text)
    return f"wrote {len(text)} characters to {path}"


@app.tool()
def crash() -> str:
    """Die in the middle of the call."""
    print("demo server: segmentation fault (simulated)", file=sys.stderr, flush=True)
    os._exit(11)


@app.tool()
def hang() -> str:
    """Never answer."""
    time.sleep(3600)
    return "unreachable"


@app.tool()
def fail() -> str:
    """Answer with an error."""
    raise ToolError("the demo database is locked")


@app.tool()
def broken(x: int) -> str:
    """A tool whose schema --bad-schema spoils."""
    return str(x)


if "--bad-schema" in sys.argv:
    app._tool_manager.get_tool("broken").parameters = {"type": "object", "properties": {"x": {"type": "wat"}}}

if __name__ == "__main__":
    if "--http" in sys.argv:
        port = int(sys.argv[sys.argv.index("--http") + 1])
        app.run("streamable-http", host="127.0.0.1", port=port)
    else:
        app.run()
