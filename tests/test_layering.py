"""The layers of the design, checked from the code's own imports: below ui/ (and cli/)
nothing imports Textual or Rich, nothing below them imports ui or cli, the base layer
(providers, store, context, voice and the top-level modules) does not import core, and no
two modules import each other, however indirectly. Only imports that run when a module loads count:
those inside functions (deliberate late imports) and under `if TYPE_CHECKING:` do not."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import coda_tui

PACKAGE = Path(coda_tui.__file__).parent
TOP = ("ui", "cli", "__main__")  # the faces; everything else is below them
MIDDLE = "core"
DRAWING = ("textual", "rich")


def modules(root: Path) -> dict[str, Path]:
    found = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def load_time_imports(tree: ast.Module, name: str, is_package: bool) -> list[str]:
    """Every module name an import at load time may bind: `from a import b` counts as both
    `a` and `a.b` (b may be a submodule)."""
    out: list[str] = []

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
                continue
            if isinstance(node, ast.Import):
                out.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[: len(base) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                out.append(source)
                out.extend(f"{source}.{alias.name}" for alias in node.names)
            for field in ("body", "orelse", "finalbody"):
                visit(getattr(node, field, None) or [])
            for handler in getattr(node, "handlers", None) or []:
                visit(handler.body)

    visit(tree.body)
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start, targets in graph.items():
        if start in index:
            continue
        work = [(start, iter(sorted(targets)))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            nxt = next(edges, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                # A package importing its own submodules (its __init__ registering them) is
                # how packages work, not a cycle.
                head = min(group)
                if len(group) > 1 and not all(m == head or m.startswith(head + ".") for m in group):
                    found.append(sorted(group))
    return found


def breaches(root: Path) -> list[str]:
    pkg = root.name
    mods = modules(root)
    graph: dict[str, set[str]] = {}
    bad = []
    for name, path in sorted(mods.items()):
        imports = load_time_imports(ast.parse(path.read_text(encoding="utf-8"), str(path)), name,
                                    path.name == "__init__.py")
        layer = name.split(".")[1] if "." in name else ""
        below = layer not in TOP
        for imported in imports:
            if below and imported.split(".")[0] in DRAWING:
                bad.append(f"{name} imports {imported}: below ui/ nothing draws")
            if below and any(imported == f"{pkg}.{top}" or imported.startswith(f"{pkg}.{top}.") for top in TOP):
                bad.append(f"{name} imports {imported}: a lower layer importing a face")
            if below and layer != MIDDLE and imported.startswith(f"{pkg}.{MIDDLE}."):
                bad.append(f"{name} imports {imported}: the base layer importing core")
        graph[name] = {m for m in imports if m in mods and m != name}
    bad += ["import cycle: " + " <-> ".join(group) for group in cycles(graph)]
    return bad


def test_the_package_keeps_its_layers_and_has_no_import_cycles():
    assert breaches(PACKAGE) == []


def _copy(tmp_path: Path) -> Path:
    copy = tmp_path / PACKAGE.name
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _add_line(path: Path, line: str) -> None:
    text = path.read_text()
    head, sep, rest = text.partition("from __future__ import annotations\n")
    path.write_text(head + sep + line + "\n" + rest if sep else line + "\n" + text)


def test_a_textual_import_in_core_is_caught(tmp_path):
    copy = _copy(tmp_path)
    _add_line(copy / "core" / "export.py", "from textual.widgets import Static")
    assert breaches(copy) == [f"{PACKAGE.name}.core.export imports textual.widgets: below ui/ nothing draws",
                              f"{PACKAGE.name}.core.export imports textual.widgets.Static: below ui/ nothing draws"]


def test_a_lower_layer_importing_ui_or_cli_is_caught_but_not_a_late_import(tmp_path):
    copy = _copy(tmp_path)
    _add_line(copy / "store" / "traces.py", "from coda_tui.cli.common import opt")
    _add_line(copy / "context" / "fuzzy.py", "def late():\n    from coda_tui.ui import app\n")
    found = breaches(copy)
    assert any(b.startswith(f"{PACKAGE.name}.store.traces imports coda_tui.cli.common") for b in found)
    assert not any("context.fuzzy" in b for b in found)


def test_the_base_importing_core_is_caught(tmp_path):
    copy = _copy(tmp_path)
    _add_line(copy / "providers" / "breaker.py", "from coda_tui.core.events import EventBus")
    assert f"{PACKAGE.name}.providers.breaker imports coda_tui.core.events: the base layer importing core" in breaches(copy)


def test_an_import_cycle_is_caught(tmp_path):
    copy = _copy(tmp_path)
    _add_line(copy / "tokens.py", "from coda_tui import textsafe")
    _add_line(copy / "textsafe.py", "import coda_tui.tokens")
    assert breaches(copy) == [f"import cycle: {PACKAGE.name}.textsafe <-> {PACKAGE.name}.tokens"]
