"""MCP servers as tool sources, against a real server written with the mcp SDK
(tests/tools/mcp_demo_server.py) over stdio and streamable HTTP: tools namespaced and
called through the executor with consent and deny rules, path arguments held to the
sandbox, and each failure — exit at start, command not found, bad schema, crash mid-call,
hang — one line while the rest keeps working."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coda_tui.config import McpServerConfig, ToolsConfig
from coda_tui.context.project import Project
from coda_tui.providers.base import ToolCall
from coda_tui.tools.arguments import refuse_outside
from coda_tui.tools.base import ToolContext, ToolError
from coda_tui.tools.executor import run_call
from coda_tui.tools.mcp import McpSource, _ended
from coda_tui.tools.policy import Policy
from coda_tui.tools.registry import ToolRegistry
from tests.conftest import run_coda, write_config
from tests.servers import free_port

SERVER = Path(__file__).with_name("mcp_demo_server.py")


def server(name: str = "demo", *flags: str, timeout_s: float = 20.0) -> McpServerConfig:
    return McpServerConfig(name=name, command=sys.executable, args=[str(SERVER), *flags], timeout_s=timeout_s)


@pytest.fixture
def project(tmp_path) -> Project:
    root = tmp_path / "proj"
    root.mkdir()
    (root / ".git").mkdir()
    (root / "notes.txt").write_text("project notes\n")
    (root / ".env").write_text("API_KEY=not-for-models\n")
    (tmp_path / "outside.txt").write_text("not the project's\n")
    return Project(root)


@pytest.fixture
def mcp_log():
    """What tools/mcp.py logs (the file handler is not set up in-process)."""
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())
    logger = logging.getLogger("coda_tui.tools.mcp")
    logger.addHandler(handler)
    level, logger.level = logger.level, logging.INFO
    yield records
    logger.removeHandler(handler)
    logger.setLevel(level)


def call(name: str, **args) -> ToolCall:
    return ToolCall(id=f"call-{name}", name=name, arguments=json.dumps(args))


class Consent:
    """Answers consent requests with `answer`, remembering what was asked."""

    def __init__(self, answer: str = "yes") -> None:
        self.answer = answer
        self.asked = []

    async def __call__(self, request):
        self.asked.append(request)
        return self.answer


def with_registry(sources, body, project: Project):
    """Run `body(registry, ctx)` against ready sources, closing them after."""

    async def go():
        registry = ToolRegistry(sources=sources)
        try:
            await registry.ready()
            return await body(registry, ToolContext(project=project))
        finally:
            await registry.aclose()

    return asyncio.run(go())


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def gone(pid: int) -> bool:
    """Once the process has ended (waiting a little for the kernel to say so)."""
    for _ in range(300):
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


async def ended(pid: int) -> bool:
    """gone(), for a test inside the event loop (which stops servers in the background)."""
    for _ in range(300):
        if not alive(pid):
            return True
        await asyncio.sleep(0.05)
    return False


def test_stdio_tools_are_namespaced_and_called_through_the_executor(project):
    async def body(registry, ctx):
        specs = {s.name: s for s in registry.specs()}
        assert set(specs) == {f"demo.{n}" for n in ("echo", "pid", "write_note", "crash", "hang", "fail", "broken")}
        assert specs["demo.echo"].read_only and not specs["demo.write_note"].read_only
        assert specs["demo.echo"].source == "mcp:demo"
        assert specs["demo.echo"].parameters["properties"]["text"]["type"] == "string"
        assert registry.problems == []
        # The model calls it by the name it was shown on the wire.
        assert specs["demo.echo"].wire_name == "demo__echo"
        consent = Consent()
        ok = await run_call(call("demo__echo", text="hello"), registry, Policy(ToolsConfig()), ctx, consent)
        assert (ok.status, ok.content) == ("ok", "echo: hello")
        # Read-only calls of one model reply run concurrently over the one connection.
        many = await asyncio.gather(*(run_call(call("demo.echo", text=str(i)), registry, Policy(ToolsConfig()), ctx,
                                               consent) for i in range(6)))
        assert [r.content for r in many] == [f"echo: {i}" for i in range(6)]
        failed = await run_call(call("demo.fail"), registry, Policy(ToolsConfig(), yes=True), ctx, consent)
        assert failed.status == "error" and "the demo database is locked" in failed.content
        assert consent.asked == []  # read-only ran at once; --yes answered for fail
        return True

    assert with_registry([McpSource(server(), project.root)], body, project)


def test_a_tool_that_is_not_read_only_asks_first_and_shows_its_arguments(project):
    async def body(registry, ctx):
        note = project.root / "note.md"
        policy = Policy(ToolsConfig())
        declined = Consent("no")
        result = await run_call(call("demo.write_note", path="note.md", text="hi"), registry, policy, ctx, declined)
        assert result.status == "denied" and not note.exists()
        request = declined.asked[0]
        assert request.preview.kind == "other" and json.loads(request.preview.body) == {"path": "note.md", "text": "hi"}
        nobody = await run_call(call("demo.write_note", path="note.md", text="hi"), registry, policy, ctx, None)
        assert nobody.status == "denied" and not note.exists()
        agreed = Consent("yes")
        result = await run_call(call("demo.write_note", path="note.md", text="hi"), registry, policy, ctx, agreed)
        assert result.status == "ok" and note.read_text() == "hi" and len(agreed.asked) == 1
        return True

    assert with_registry([McpSource(server(), project.root)], body, project)


def test_deny_and_allow_rules_name_a_tool_or_all_of_a_server(project):
    async def body(registry, ctx):
        never = Consent("no")
        one = Policy(ToolsConfig(deny=["demo.write_note"]))
        assert (await run_call(call("demo.write_note", path="a", text="b"), registry, one, ctx, never)).status == "denied"
        assert (await run_call(call("demo.echo", text="x"), registry, one, ctx, never)).status == "ok"
        whole = Policy(ToolsConfig(deny=["demo.*"]))
        result = await run_call(call("demo.echo", text="x"), registry, whole, ctx, never)
        assert result.status == "denied" and "[tools] deny" in result.content
        allowed = Policy(ToolsConfig(allow=["demo.write_note"]))
        result = await run_call(call("demo.write_note", path="a.txt", text="b"), registry, allowed, ctx, never)
        assert result.status == "ok" and (project.root / "a.txt").read_text() == "b"
        assert never.asked == []
        return True

    assert with_registry([McpSource(server(), project.root)], body, project)


def test_path_arguments_outside_the_project_or_at_protected_files_are_refused(project, tmp_path):
    (project.root / "escape").symlink_to(tmp_path)
    outside = tmp_path / "outside.txt"

    async def body(registry, ctx):
        yes = Consent("yes")
        policy = Policy(ToolsConfig())
        for path, why in [("../planted.txt", "outside the project"), (str(tmp_path / "planted.txt"), "outside the project"),
                          ("escape/planted.txt", "through a symlink"), (".env", "protected pattern"),
                          (f"file://{outside}", "outside the project")]:
            result = await run_call(call("demo.write_note", path=path, text="pwned"), registry, policy, ctx, yes)
            assert result.status == "error" and why in result.content and "refused" in result.content, path
        assert yes.asked == []  # refused before anybody was asked
        assert not (tmp_path / "planted.txt").exists() and outside.read_text() == "not the project's\n"
        assert (project.root / ".env").read_text() == "API_KEY=not-for-models\n"
        # A read-only tool too, and a value that names an existing file whatever its key.
        result = await run_call(call("demo.echo", text=str(outside)), registry, policy, ctx, yes)
        assert result.status == "error" and "outside the project" in result.content
        inside = await run_call(call("demo.echo", text="notes.txt"), registry, policy, ctx, yes)
        assert inside.status == "ok"
        return True

    assert with_registry([McpSource(server(), project.root)], body, project)


def test_a_crash_mid_call_is_one_error_then_one_restart_then_down(project, mcp_log):
    async def body(registry, ctx):
        policy = Policy(ToolsConfig(), yes=True)
        first_pid = int((await run_call(call("demo.pid"), registry, policy, ctx, None)).content)
        crashed = await run_call(call("demo.crash"), registry, policy, ctx, None)
        assert crashed.status == "error"
        assert "exited during the call" in crashed.content and "restarted at the next call" in crashed.content
        assert await ended(first_pid)
        assert any("segmentation fault (simulated)" in line for line in mcp_log)  # its stderr, in the log
        again = await run_call(call("demo.pid"), registry, policy, ctx, None)
        assert again.status == "ok" and int(again.content) != first_pid
        crashed = await run_call(call("demo.crash"), registry, policy, ctx, None)
        assert crashed.status == "error" and "stays down" in crashed.content
        down = await run_call(call("demo.echo", text="x"), registry, policy, ctx, None)
        assert down.status == "error" and "not run" in down.content and "mcp server demo" in down.content
        return True

    assert with_registry([McpSource(server(), project.root)], body, project)


def test_a_server_that_exits_between_calls_is_restarted_before_the_next(project, mcp_log):
    source = McpSource(server(), project.root)

    async def body(registry, ctx):
        policy = Policy(ToolsConfig())
        first_pid = int((await run_call(call("demo.pid"), registry, policy, ctx, None)).content)
        os.kill(first_pid, signal.SIGKILL)
        assert await ended(first_pid)
        for _ in range(200):  # until the SDK has read the end of the server's output
            if _ended(source._conn.client):
                break
            await asyncio.sleep(0.05)
        result = await run_call(call("demo.pid"), registry, policy, ctx, None)
        assert result.status == "ok" and int(result.content) != first_pid  # not a failed call: a restart first
        assert "mcp server demo: its connection ended between calls" in mcp_log
        return True

    assert with_registry([source], body, project)


def test_a_hanging_call_times_out_and_the_server_is_restarted_next_time(project):
    async def body(registry, ctx):
        assert registry.problems == []
        policy = Policy(ToolsConfig(), yes=True)
        first_pid = int((await run_call(call("demo.pid"), registry, policy, ctx, None)).content)
        hung = await run_call(call("demo.hang"), registry, policy, ctx, None)
        assert hung.status == "error" and "no answer within 6 s" in hung.content
        assert await ended(first_pid)
        after = await run_call(call("demo.pid"), registry, policy, ctx, None)
        assert after.status == "ok" and int(after.content) != first_pid
        return True

    # timeout_s bounds the start too, which takes seconds on a loaded machine.
    assert with_registry([McpSource(server(timeout_s=6), project.root)], body, project)


def test_servers_that_cannot_start_are_one_line_each_and_the_rest_works(project, mcp_log):
    sources = [McpSource(server(), project.root), McpSource(server("dead", "--exit-at-start"), project.root),
               McpSource(McpServerConfig(name="nowhere", command="coda-no-such-mcp-server"), project.root),
               # Runs, but never speaks MCP.
               McpSource(McpServerConfig(name="mute", command=sys.executable, args=["-c", "import time; time.sleep(600)"],
                                         timeout_s=2), project.root)]

    async def body(registry, ctx):
        problems = sorted(registry.problems)
        assert len(problems) == 3
        assert problems[0].startswith("mcp server dead: exited while starting")
        assert "last stderr line is in" in problems[0]
        assert problems[1] == "mcp server mute: did not answer within 2 s while starting"
        assert problems[2] == "mcp server nowhere: cannot start 'coda-no-such-mcp-server': command not found"
        assert any("cannot open its database (simulated)" in line for line in mcp_log)
        assert {s.source for s in registry.specs()} == {"mcp:demo"}
        result = await run_call(call("demo.echo", text="still here"), registry, Policy(ToolsConfig()), ctx, None)
        assert (result.status, result.content) == ("ok", "echo: still here")
        return True

    assert with_registry(sources, body, project)


def test_a_tool_with_a_bad_schema_is_skipped_with_a_problem_line(project):
    async def body(registry, ctx):
        names = {s.name for s in registry.specs()}
        assert "demo.broken" not in names and "demo.echo" in names
        assert len(registry.problems) == 1
        assert registry.problems[0].startswith("mcp server demo: tool broken skipped, its input schema is invalid")
        return True

    assert with_registry([McpSource(server("demo", "--bad-schema"), project.root)], body, project)


def test_closing_leaves_no_server_process(project):
    source = McpSource(server(), project.root)

    async def go():
        tools = {t.spec.name: t for t in await source.tools()}
        pid = int(await tools["demo.pid"].call({}, ToolContext(project=project)))
        await source.aclose()
        return pid

    assert gone(asyncio.run(go()))


@pytest.fixture
def http_server():
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(SERVER), "--http", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        for _ in range(600):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert proc.poll() is None, "the HTTP server exited"
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(10)


def test_streamable_http_server(project, http_server):
    async def body(registry, ctx):
        assert "web.echo" in {s.name for s in registry.specs()}
        result = await run_call(call("web.echo", text="over http"), registry, Policy(ToolsConfig()), ctx, None)
        assert (result.status, result.content) == ("ok", "echo: over http")
        return True

    source = McpSource(McpServerConfig(name="web", url=http_server, timeout_s=20))
    assert source.transport == "http"
    assert with_registry([source], body, project)


def test_an_http_server_that_is_not_there_is_one_line(project):
    url = f"http://127.0.0.1:{free_port()}/mcp"

    async def body(registry, ctx):
        assert registry.problems == [f"mcp server web: cannot reach {url} (All connection attempts failed)"]
        return True

    assert with_registry([McpSource(McpServerConfig(name="web", url=url, timeout_s=10))], body, project)


def test_coda_mcp_list_json(isolated, project):
    py = json.dumps(sys.executable)
    config = write_config(isolated, f"""
[mcp.servers.demo]
command = {py}
args = [{json.dumps(str(SERVER))}]
[mcp.servers.dead]
command = {py}
args = [{json.dumps(str(SERVER))}, "--exit-at-start"]
[mcp.servers.off]
url = "http://127.0.0.1:9/mcp"
enabled = false
[mcp.servers.chatty]
command = {py}
args = [{json.dumps(str(SERVER))}, "--banner"]
[tools]
deny = ["demo.crash"]
""")
    out = run_coda("mcp", "list", "--json", "--config", str(config), "--project", str(project.root))
    assert out.returncode == 1 and "Traceback" not in out.stderr  # one server failed
    servers = {s["name"]: s for s in json.loads(out.stdout)}
    assert {n: s["state"] for n, s in servers.items()} == {"demo": "ok", "dead": "failed", "off": "disabled",
                                                          "chatty": "ok"}
    assert servers["dead"]["problem"].startswith("mcp server dead: exited while starting")
    assert servers["off"]["transport"] == "http" and servers["demo"]["transport"] == "stdio"
    rules = {t["name"]: t["rule"] for t in servers["demo"]["tools"]}
    assert rules["demo.echo"] == "allow" and rules["demo.write_note"] == "ask" and rules["demo.crash"] == "deny"
    # The server's stderr went to the log, not to the terminal.
    log = (isolated / "data" / "logs" / "coda.log").read_text()
    assert "cannot open its database (simulated)" in log and "simulated" not in out.stderr
    # The SDK's complaint about the banner (with its traceback) too.
    assert "Failed to parse JSONRPC message from server" in log and "Welcome" not in out.stderr

    text = run_coda("mcp", "list", "--config", str(config), "--project", str(project.root))
    assert "demo  ok  stdio" in text.stdout and "off  disabled  http" in text.stdout
    assert "mcp server dead: exited while starting" in text.stdout


def test_coda_doctor_checks_each_server(isolated, project):
    config = write_config(isolated, f"""
[mcp.servers.demo]
command = {json.dumps(sys.executable)}
args = [{json.dumps(str(SERVER))}, "--bad-schema"]
[mcp.servers.nowhere]
command = "coda-no-such-mcp-server"
""")
    out = run_coda("doctor", "--json", "--config", str(config), "--project", str(project.root), timeout=300)
    checks = {c["name"]: c for c in json.loads(out.stdout)["checks"]}
    assert checks["mcp demo"]["ok"] is True and "6 tools (2 read-only)" in checks["mcp demo"]["detail"]
    assert "1 skipped" in checks["mcp demo"]["detail"]
    assert checks["mcp nowhere"]["ok"] is False and "command not found" in checks["mcp nowhere"]["detail"]


def test_which_arguments_are_taken_for_paths(project, tmp_path):
    ok = [{"query": "a/b or c/d"}, {"url": "https://example.com/x"}, {"path": "src/new_file.py"},
          {"text": "../not-there"}, {"paths": ["notes.txt", "docs/"]}, {"count": 3},
          {"separator": "/"}]
    for args in ok:
        refuse_outside("t", args, project)
    refused = [{"paths": ["notes.txt", "/etc"]}, {"options": {"targetDir": "../.."}}, {"uri": f"file://{tmp_path}"},
               {"file_path": "sub/../../x"}, {"cfg": ".env"}, {"keyFile": "id_rsa"}]
    for args in refused:
        with pytest.raises(ToolError, match="refused"):
            refuse_outside("t", args, project)


def test_coda_tools_list_shows_mcp_tools_beside_the_builtins(isolated, project):
    config = write_config(isolated, f"""
[mcp.servers.demo]
command = {json.dumps(sys.executable)}
args = [{json.dumps(str(SERVER))}, "--bad-schema"]
[mcp.servers.dead]
command = {json.dumps(sys.executable)}
args = [{json.dumps(str(SERVER))}, "--exit-at-start"]
""")
    out = run_coda("tools", "list", "--json", "--config", str(config), "--project", str(project.root))
    listing = json.loads(out.stdout)
    tools = {t["name"]: t for t in listing["tools"]}
    assert tools["read_file"]["source"] == "builtin"
    assert (tools["demo.echo"]["source"], tools["demo.echo"]["rule"]) == ("mcp:demo", "allow")
    assert tools["demo.write_note"]["rule"] == "ask" and "demo.broken" not in tools
    problems = sorted(listing["problems"])
    assert problems[0].startswith("mcp server dead: exited while starting")
    assert problems[1].startswith("mcp server demo: tool broken skipped")
    assert "Traceback" not in out.stderr


def test_coda_mcp_list_without_servers_says_how_to_add_one(isolated, project):
    config = write_config(isolated, "[tools]\nenabled = true\n")
    out = run_coda("mcp", "list", "--config", str(config), "--project", str(project.root))
    assert out.returncode == 0 and out.stdout == f"no MCP servers configured; add a [mcp.servers.NAME] table to {config}\n"
    assert json.loads(run_coda("mcp", "list", "--json", "--config", str(config)).stdout) == []
