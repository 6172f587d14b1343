"""MCP servers as tool sources: `[mcp.servers.NAME]` started over stdio (command, args,
env) or reached over streamable HTTP (url), through the `mcp` SDK's client.

A server starts the first time its tools are wanted (the registry's `ready()`), never at
import or on the app's critical path, and every step — start, listing, each call — is
bounded by its `timeout_s`. Its tools are offered as SERVER.tool with the server's own JSON
schema; one whose annotations say readOnlyHint runs at once, the others ask first (the
consent shows their arguments). Path arguments are held to the project sandbox before any
call (tools/arguments.py).

Whatever a server does — fails to start, exits, crashes mid-call, hangs, lists a bad
schema — comes back as one line naming the server and what happened (a CodaError from
`tools()`, a ToolError from a call), with its last stderr line in the log. A server that
crashed or hung is stopped and restarted at the next call, once; after a second failure it
stays down for the session. The rest of coda never notices.

The SDK's client lives in anyio task groups that must be entered and left by one task, so
each connection is owned by a task of its own (`_own`); calls from any task go through the
client it holds, and closing asks that task to leave.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coda_tui import paths
from coda_tui.config import McpConfig, McpServerConfig
from coda_tui.errors import CodaError
from coda_tui.tools.arguments import refuse_outside, schema_problem
from coda_tui.tools.base import Preview, ToolContext, ToolError, ToolSpec

log = logging.getLogger(__name__)

# Extra time beyond timeout_s for the SDK's own timeout to fire first (it cancels cleanly).
_GRACE_S = 2.0
_MAX_PAGES = 50
_DESCRIPTION_CHARS = 400
# Codes the SDK raises for a connection that ended and for a request that timed out.
_CONNECTION_CLOSED = -32000
_REQUEST_TIMEOUT = -32001


class McpError(CodaError):
    """A server that could not give its tools; the message names it and what happened."""


class _ToCodaLog(logging.Handler):
    """The SDK reports its own troubles (a line of a server's output that is not JSON-RPC,
    with a traceback) on the `mcp` logger, which Python, with no handler there, prints on
    stderr — over the app's screen, or as a traceback in the CLI. Into coda's log instead."""

    def emit(self, record: logging.LogRecord) -> None:
        logging.getLogger("coda_tui.tools.mcp.sdk").handle(record)


def _route_sdk_logging() -> None:
    sdk = logging.getLogger("mcp")
    if not any(isinstance(h, _ToCodaLog) for h in sdk.handlers):
        sdk.addHandler(_ToCodaLog())
        sdk.propagate = False


class _StderrTail:
    """A stdio server's stderr, read as it comes (so a chatty server never blocks on a full
    pipe) keeping only its last lines, for the log when something goes wrong."""

    def __init__(self) -> None:
        self._r, w = os.pipe()
        os.set_blocking(self._r, False)
        self.file = os.fdopen(w, "w")  # what the server's stderr is opened on
        self._lines: collections.deque[str] = collections.deque(maxlen=20)
        self._partial = b""
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self._r, self.drain)
        self._open = True

    def drain(self) -> None:
        while self._open:
            try:
                chunk = os.read(self._r, 65536)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                self._loop.remove_reader(self._r)
                return
            *lines, self._partial = (self._partial + chunk).split(b"\n")
            self._lines.extend(line.decode("utf-8", "replace").rstrip() for line in lines)
            self._partial = self._partial[-4096:]

    def last_line(self) -> str:
        self.drain()
        for line in reversed([*self._lines, self._partial.decode("utf-8", "replace")]):
            if line.strip():
                return line.strip()[:500]
        return ""

    def close_writer(self) -> None:
        """Our copy of the pipe's write end, once the server has its own."""
        if not self.file.closed:
            self.file.close()

    def close(self) -> None:
        self.close_writer()
        if self._open:
            self.drain()
            self._open = False
            self._loop.remove_reader(self._r)
            os.close(self._r)


@dataclass
class _Connection:
    """One run of a server: the task that owns it, the client it holds once started."""

    task: asyncio.Task
    ready: asyncio.Future
    stop: asyncio.Event
    tail: _StderrTail | None
    client: Any = None
    listing: list = field(default_factory=list)
    scope: Any = None  # the anyio cancel scope the task runs in


class McpSource:
    """One configured server (see the module's docstring)."""

    def __init__(self, config: McpServerConfig, cwd: Path | None = None) -> None:
        self.name = config.name
        self.config = config
        self.cwd = cwd
        self.transport = "http" if config.url else "stdio"
        # Tools this server listed that could not be offered (one line each).
        self.problems: list[str] = []
        # Why the server is not running, once it failed; None while all is well.
        self.problem: str | None = None
        self._conn: _Connection | None = None
        self._lock = asyncio.Lock()
        self._tools: list[McpTool] | None = None
        self._restarted = False
        self._closed = False
        self._stopping: set[asyncio.Task] = set()

    @property
    def target(self) -> str:
        """What is started or reached: the command line, or the url."""
        return self.config.url or " ".join([self.config.command, *self.config.args])

    @property
    def state(self) -> str:
        if self.problem:
            return "failed"
        return "ok" if self._conn is not None and self._conn.client is not None else "not started"

    async def tools(self) -> list[McpTool]:
        if self._tools is None:
            listing = await self._running()
            self._tools = [t for t in (self._offer(item) for item in listing) if t is not None]
        return self._tools

    def _offer(self, item) -> McpTool | None:
        schema = item.input_schema
        problem = schema_problem(schema)
        if problem:
            line = f"mcp server {self.name}: tool {item.name} skipped, its input schema {problem}"
            log.warning("%s: %s", line, json.dumps(schema)[:500])
            self.problems.append(line)
            return None
        annotations = item.annotations
        read_only = bool(annotations is not None and annotations.read_only_hint)
        description = " ".join((item.description or item.title or item.name).split())[:_DESCRIPTION_CHARS]
        spec = ToolSpec(f"{self.name}.{item.name}", description, schema, read_only, f"mcp:{self.name}")
        return McpTool(spec, self, item.name)

    # --- the connection ------------------------------------------------------------------

    async def _running(self) -> list:
        """The running server's tool listing, starting it if need be (a restart at most once
        after a failure); McpError (CodaError) with the line that says why not."""
        async with self._lock:
            if self._closed:
                raise McpError(f"mcp server {self.name}: closed")
            conn = self._conn
            if conn is not None and conn.client is not None and not conn.task.done() and not _ended(conn.client):
                return conn.listing
            if conn is not None and self.problem is None:
                # Its connection ended between calls (the SDK noticed the server go): a failure
                # like any other, so it counts toward the one restart.
                last = conn.tail.last_line() if conn.tail is not None else ""
                self.problem = f"mcp server {self.name}: its connection ended between calls"
                log.warning("%s%s", self.problem, f"; its last stderr line: {last}" if last else "")
            if self.problem is not None:
                if self._restarted:
                    raise McpError(self.problem)
                self._restarted = True
                log.info("mcp server %s: restarting after: %s", self.name, self.problem)
            await self._stop_connection()
            self.problem = None
            try:
                return await self._start()
            except McpError as exc:
                self.problem = exc.message
                raise

    async def _start(self) -> list:
        _route_sdk_logging()
        loop = asyncio.get_running_loop()
        tail = _StderrTail() if self.transport == "stdio" else None
        conn = _Connection(task=None, ready=loop.create_future(), stop=asyncio.Event(), tail=tail)  # type: ignore[arg-type]
        conn.task = asyncio.ensure_future(self._own(conn))
        self._conn = conn
        timeout = self.config.timeout_s
        try:
            await asyncio.wait_for(asyncio.shield(conn.ready), timeout)
        except TimeoutError:
            await self._stop_connection()
            raise self._failure(f"did not answer within {timeout:g} s while starting", tail) from None
        except asyncio.CancelledError:
            await self._stop_connection()
            raise
        except BaseException as exc:  # noqa: BLE001 - whatever the SDK raised becomes one line
            await self._stop_connection()
            raise self._failure(self._start_problem(exc), tail) from None
        finally:
            if tail is not None:
                tail.close_writer()
        log.info("mcp server %s: started (%s), %d tools", self.name, self.transport, len(conn.listing))
        return conn.listing

    async def _own(self, conn: _Connection) -> None:
        """Hold the SDK's client open until asked to stop (see the module's docstring)."""
        import anyio
        from mcp import Client

        try:
            # `_stop` cancels a start through this scope: anyio's own way, which the SDK's
            # task groups honour (a plain task.cancel() can leave them stuck mid-handshake).
            with anyio.CancelScope() as conn.scope:
                async with Client(self._transport(conn.tail), cache=None) as client:
                    listing, cursor = [], None
                    for _ in range(_MAX_PAGES):
                        page = await client.list_tools(cursor=cursor)
                        listing += page.tools
                        cursor = page.next_cursor
                        if not cursor:
                            break
                    conn.client, conn.listing = client, listing
                    conn.ready.set_result(listing)
                    await conn.stop.wait()
        except asyncio.CancelledError:
            if not conn.ready.done():
                conn.ready.cancel()
            raise
        except BaseException as exc:  # noqa: BLE001 - reported through `ready`, or logged
            if not conn.ready.done():
                conn.ready.set_exception(exc)
            else:
                log.debug("mcp server %s: connection ended: %r", self.name, exc)
        finally:
            conn.client = None

    def _transport(self, tail: _StderrTail | None):
        if self.config.url:
            from mcp.client.streamable_http import streamable_http_client

            return streamable_http_client(self.config.url)
        from mcp import StdioServerParameters
        from mcp.client.stdio import stdio_client

        params = StdioServerParameters(command=self.config.command, args=list(self.config.args),
                                       env=dict(self.config.env) or None, cwd=self.cwd)
        return stdio_client(params, errlog=tail.file if tail else None)

    async def _stop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await self._stop(conn)

    async def _stop(self, conn: _Connection) -> None:
        """Ask the owning task to leave (the SDK closes the server's stdin, then terminates
        and kills its process group, each step bounded) and wait for it."""
        conn.stop.set()
        if conn.scope is None:
            conn.task.cancel()  # not begun: nothing to undo
        elif conn.client is None:
            conn.scope.cancel()  # still starting: nothing waits for `stop` yet
        try:
            # Bounded by the SDK's own shutdown (a few seconds at worst).
            await asyncio.wait_for(asyncio.shield(conn.task), 10)
        except TimeoutError:
            conn.scope.cancel()
            log.warning("mcp server %s: did not stop within 10 s", self.name)
        except BaseException as exc:  # noqa: BLE001 - the run's failure was reported already
            log.debug("mcp server %s: stopped: %r", self.name, exc)
        if not conn.ready.done():
            conn.ready.cancel()
        elif not conn.ready.cancelled():
            conn.ready.exception()  # retrieved: no "exception never retrieved" warning
        if conn.tail is not None:
            conn.tail.close()

    def _start_problem(self, exc: BaseException) -> str:
        exc = _root(exc)
        if isinstance(exc, FileNotFoundError) and self.transport == "stdio":
            return f"cannot start '{self.config.command}': command not found"
        if isinstance(exc, PermissionError) and self.transport == "stdio":
            return f"cannot start '{self.config.command}': permission denied"
        if _code(exc) == _CONNECTION_CLOSED:
            return "exited while starting" if self.transport == "stdio" else f"{self.config.url} closed the connection"
        if self.transport == "http" and type(exc).__name__ in {"ConnectError", "ConnectTimeout"}:
            return f"cannot reach {self.config.url} ({exc or type(exc).__name__})"
        return f"failed to start: {type(exc).__name__}: {exc}"

    def _failure(self, what: str, tail: _StderrTail | None) -> McpError:
        line = f"mcp server {self.name}: {what}"
        last = tail.last_line() if tail is not None else ""
        if last:
            log.warning("%s; its last stderr line: %s", line, last)
            return McpError(line, hint=f"its last stderr line is in {paths.log_path()}")
        log.warning("%s", line)
        return McpError(line)

    # --- calls ---------------------------------------------------------------------------

    async def call(self, tool: str, args: dict[str, Any]):
        """The server's CallToolResult; ToolError (one line) when it could not be had."""
        label = f"{self.name}.{tool}"
        try:
            await self._running()
        except McpError as exc:
            raise ToolError(f"{label}: not run ({exc.message})") from None
        conn = self._conn
        client = conn.client if conn is not None else None
        if client is None:
            raise ToolError(f"{label}: not run, mcp server {self.name} stopped")
        timeout = self.config.timeout_s
        try:
            # A net under the SDK's own timeout (asyncio.timeout: no extra task a call).
            async with asyncio.timeout(timeout + _GRACE_S):
                return await client.call_tool(tool, args, read_timeout_seconds=timeout)
        except TimeoutError:
            raise await self._broken(conn, label, f"no answer within {timeout:g} s") from None
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - classified below, never raised as is
            root = _root(exc)
            code = _code(root)
            if code == _REQUEST_TIMEOUT:
                raise await self._broken(conn, label, f"no answer within {timeout:g} s") from None
            if code == _CONNECTION_CLOSED or conn.task.done() or isinstance(root, (OSError, EOFError)):
                closed = "the server exited" if self.transport == "stdio" else "the connection closed"
                raise await self._broken(conn, label, f"{closed} during the call") from None
            if code is not None:
                # An error the server answered with (unknown tool, bad arguments): it is still up.
                raise ToolError(f"{label}: {getattr(root, 'message', root)}") from None
            log.warning("mcp server %s: %s failed: %r", self.name, tool, root)
            raise ToolError(f"{label}: {type(root).__name__}: {root}") from None

    async def _broken(self, conn: _Connection, label: str, what: str) -> ToolError:
        """Mark the server down after a crash or a hang (stopping what is left of it), and
        the error the model reads."""
        again = self._restarted
        async with self._lock:
            if self._conn is conn:
                self.problem = f"mcp server {self.name}: {what} ({label})"
                last = conn.tail.last_line() if conn.tail is not None else ""
                log.warning("%s%s", self.problem, f"; its last stderr line: {last}" if last else "")
                # Stopped in the background: a hung server takes seconds to terminate, which
                # the model's turn need not wait for; aclose waits for it.
                self._conn = None
                stopping = asyncio.ensure_future(self._stop(conn))
                self._stopping.add(stopping)
                stopping.add_done_callback(self._stopping.discard)
        then = "stays down for this session" if again else "will be restarted at the next call"
        return ToolError(f"{label}: {what}; mcp server {self.name} {then}")

    async def aclose(self) -> None:
        async with self._lock:
            self._closed = True
            await self._stop_connection()
        await asyncio.gather(*self._stopping, return_exceptions=True)


class McpTool:
    """One tool of a server, as the registry sees it."""

    def __init__(self, spec: ToolSpec, source: McpSource, remote: str) -> None:
        self.spec = spec
        self.source = source
        self.remote = remote  # its name on the server

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        refuse_outside(self.spec.name, args, ctx.project)
        result = await self.source.call(self.remote, args)
        text = result_text(result)
        if result.is_error:
            raise ToolError(f"{self.spec.name}: {text or 'failed (the server gave no reason)'}")
        return text

    async def preview(self, args: dict[str, Any], ctx: ToolContext) -> Preview:
        refuse_outside(self.spec.name, args, ctx.project)
        return Preview("other", f"{self.spec.name} (mcp server {self.source.name})",
                       json.dumps(args, indent=2, ensure_ascii=False))


def result_text(result) -> str:
    """Text content joined; other content summarised in a line (the model reads text)."""
    parts = []
    for block in result.content:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind in ("image", "audio"):
            size = len(block.data or "") * 3 // 4
            parts.append(f"[{kind} {block.mime_type}, {size:,} bytes, not shown]")
        elif kind == "resource":
            res = block.resource
            text = getattr(res, "text", None)
            parts.append(text if text is not None else f"[resource {res.uri} ({res.mime_type or 'binary'}), not shown]")
        elif kind == "resource_link":
            parts.append(f"[resource link {block.name}: {block.uri}]")
        else:
            parts.append(f"[{kind or type(block).__name__} content, not shown]")
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False))
    return "\n".join(parts)


def _ended(client) -> bool:
    """Has the SDK seen the connection end (the server exited while idle)? Then a call would
    fail unsent; better to restart first. (The SDK says so only through a private flag: if
    that goes, the first call after such an exit fails and the next one restarts.)"""
    return getattr(getattr(client.session, "_dispatcher", None), "_closed", False) is True


def _root(exc: BaseException) -> BaseException:
    """The first real error inside the task groups' ExceptionGroups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _code(exc: BaseException) -> int | None:
    code = getattr(exc, "code", None)
    return code if isinstance(code, int) and getattr(exc, "error", None) is not None else None


def mcp_sources(config: McpConfig, cwd: Path | None = None) -> list[McpSource]:
    """A source for each enabled server (disabled ones are listed by `coda mcp list` only)."""
    return [McpSource(server, cwd) for server in config.servers.values() if server.enabled]


@dataclass
class ServerReport:
    """What one configured server came to when started for a look (`coda mcp list`, doctor)."""

    name: str
    transport: str  # stdio | http
    target: str  # the command line, or the url
    state: str  # ok | failed | disabled
    problem: str | None = None  # why it failed (one line)
    problems: list[str] = field(default_factory=list)  # tools it listed that were left out
    tools: list[ToolSpec] = field(default_factory=list)


async def probe(config: McpConfig, cwd: Path | None = None) -> list[ServerReport]:
    """Start every enabled server at once, list its tools, stop it."""

    async def one(server: McpServerConfig) -> ServerReport:
        source = McpSource(server, cwd)
        report = ServerReport(server.name, source.transport, source.target, "disabled")
        if not server.enabled:
            return report
        try:
            report.tools = [t.spec for t in await source.tools()]
            report.state, report.problems = "ok", source.problems
        except CodaError as exc:
            report.state, report.problem = "failed", exc.render()
        finally:
            await source.aclose()
        return report

    return list(await asyncio.gather(*(one(s) for s in config.servers.values())))
