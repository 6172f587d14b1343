"""What coda checks in tools it did not write (MCP servers, plugins): that their argument
schema is one a model can be given, and that their path arguments stay in the project
sandbox, before the call: a server runs with the user's rights, so "read /etc/passwd" or
"read .env" must be refused here, where coda still decides, not trusted to the server.

A string is taken for a path when its key says so (path, file, dir, folder, cwd, uri, in
any spelling: file_path, targetDir, paths...) or when it names a file or folder that
exists. Relative paths are read from the project root, as the server would see them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coda_tui.tools.base import ToolError

if TYPE_CHECKING:
    from coda_tui.context.project import Project

_PATH_KEY = re.compile(r"path|file|dir|folder|cwd|uri", re.IGNORECASE)
# Values that cannot be a local path whatever their key says.
_NOT_A_PATH = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_MAX_PATH_CHARS = 4096


def schema_problem(schema: Any) -> str | None:
    """Why a tool's input schema cannot be offered to a model, or None."""
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return "is not a JSON schema of type object"
    if not isinstance(schema.get("properties", {}), dict):
        return "has properties that are not an object"
    from jsonschema import SchemaError
    from jsonschema.validators import validator_for

    try:
        validator_for(schema).check_schema(schema)
    except SchemaError as exc:
        return f"is invalid ({exc.message[:120]})"
    return None


def refuse_outside(tool: str, args: dict[str, Any], project: Project) -> None:
    """ToolError naming the first argument that leads out of the project or at a protected
    file (secrets, keys, .env); nothing when every path argument is inside and allowed."""
    for key, value in _strings(args, ""):
        problem = _judge(value, _PATH_KEY.search(key) is not None, project)
        if problem:
            raise ToolError(f"{tool}: argument '{key}' ({value[:80]}) {problem}; refused")


def _strings(value: Any, key: str):
    """(key, string) for every string in the arguments, nested ones under their parent's
    key ("paths" for each item of a list of paths)."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{key}.{k}" if key else str(k))
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v, key)


def _judge(value: str, named_as_path: bool, project: Project) -> str | None:
    text = value.strip()
    if text.lower().startswith("file://"):
        text, named_as_path = text[len("file://"):], True
    if not text or len(text) > _MAX_PATH_CHARS or "\n" in text or "\0" in text or _NOT_A_PATH.match(text):
        return None
    try:
        if not named_as_path and (len(text) < 2 or not os.path.exists(os.path.join(project.root, os.path.expanduser(text)))):
            return None  # an ordinary string (a query, a separator, a message): one stat at most
        given = Path(text).expanduser()
        lexical = given if given.is_absolute() else project.root / given
        resolved = lexical.resolve()
    except (OSError, RuntimeError, ValueError):
        return None if not named_as_path else "cannot be resolved"
    root = project.root
    # Lexically too: "../x" is refused even when x does not exist yet (a file to be written).
    normal = Path(*_normalized(lexical.parts))
    if not resolved.is_relative_to(root) or not normal.is_relative_to(root):
        via = " through a symlink" if normal.is_relative_to(root) else ""
        return f"leads outside the project {root}{via}"
    for rel in {project.rel(resolved), normal.relative_to(root).as_posix()}:
        if rel != "." and project.is_denied(rel):
            return f"names {rel}, which matches a protected pattern (secrets, keys, .env)"
    return None


def _normalized(parts: tuple[str, ...]) -> list[str]:
    """`parts` with "." dropped and ".." applied, without touching the disk."""
    out: list[str] = []
    for part in parts:
        if part == "..":
            if len(out) > 1:
                out.pop()
        elif part != ".":
            out.append(part)
    return out
