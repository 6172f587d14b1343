"""Split source files into chunks that follow definitions.

Pygments names the language (its lexer registry knows ~500 file patterns, looked up once
per file suffix); the definition lines themselves are found with one regular expression
per language. Lexing every file with Pygments would follow the grammar more closely, but
it reads well under 1 MB/s here, and the index must take thousands of files a second.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

MAX_CHUNK_LINES = 80
WINDOW = 60
# Definitions shorter than this are joined to the next one: many tiny chunks cost index
# time and rank worse (too little text for BM25), and a few lines of neighbouring code
# are useful context anyway. A joined chunk carries all its definitions' names.
MIN_CHUNK_LINES = 15

_SUFFIX = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".jsx": "javascript", ".mjs": "javascript",
    ".cjs": "javascript", ".ts": "typescript", ".tsx": "typescript", ".go": "go", ".rs": "rust",
    ".java": "java", ".kt": "kotlin", ".kts": "kotlin", ".scala": "scala", ".cs": "csharp",
    ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp", ".hh": "cpp",
    ".rb": "ruby", ".php": "php", ".swift": "swift", ".lua": "lua", ".sh": "shell", ".bash": "shell",
    ".md": "markdown", ".rst": "rst", ".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".json": "json",
    ".html": "html", ".css": "css", ".sql": "sql", ".txt": "text",
}

_DEFS = {
    "python": r"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+([A-Za-z_]\w*)",
    "javascript": r"^[ \t]*(?:export[ \t]+)?(?:default[ \t]+)?(?:async[ \t]+)?(?:function\*?[ \t]+([A-Za-z_$][\w$]*)|class[ \t]+([A-Za-z_$][\w$]*)|(?:const|let|var)[ \t]+([A-Za-z_$][\w$]*)[ \t]*=[ \t]*(?:async[ \t]*)?(?:function|\([^)]*\)[ \t]*=>|[A-Za-z_$][\w$]*[ \t]*=>))",
    "go": r"^(?:func[ \t]+(?:\([^)]*\)[ \t]*)?([A-Za-z_]\w*)|type[ \t]+([A-Za-z_]\w*))",
    "rust": r"^[ \t]*(?:pub(?:\([^)]*\))?[ \t]+)?(?:async[ \t]+)?(?:unsafe[ \t]+)?(?:fn|struct|enum|trait|mod|impl(?:<[^>]*>)?)[ \t]+([A-Za-z_]\w*)",
    "java": r"^[ \t]*(?:(?:public|private|protected|static|final|abstract|synchronized|native|default)[ \t]+)*(?:class|interface|enum|record|@interface|[\w<>\[\],.? ]+?)[ \t]+([A-Za-z_]\w*)[ \t]*(?:\(|\{|extends|implements|<)",
    "kotlin": r"^[ \t]*(?:(?:public|private|protected|internal|open|abstract|data|sealed|override|suspend|inline)[ \t]+)*(?:fun|class|interface|object)[ \t]+(?:<[^>]*>[ \t]*)?(?:[\w.]+\.)?([A-Za-z_]\w*)",
    "csharp": r"^[ \t]*(?:(?:public|private|protected|internal|static|sealed|abstract|virtual|override|async|partial)[ \t]+)+(?:class|interface|enum|record|struct|[\w<>\[\],.? ]+?)[ \t]+([A-Za-z_]\w*)[ \t]*[({<:]",
    "c": r"^(?![ \t])(?!return\b|if\b|else\b|for\b|while\b|switch\b|typedef\b)[A-Za-z_][\w \t\*]*?\b([A-Za-z_]\w*)[ \t]*\([^;{]*\)?[ \t]*\{?[ \t]*$|^(?:typedef[ \t]+)?(?:struct|enum|union)[ \t]+([A-Za-z_]\w*)[ \t]*\{",
    "ruby": r"^[ \t]*(?:def|class|module)[ \t]+(?:self\.)?([A-Za-z_][\w.?!]*)",
    "php": r"^[ \t]*(?:(?:public|private|protected|static|abstract|final)[ \t]+)*(?:function|class|interface|trait)[ \t]+([A-Za-z_]\w*)",
    "swift": r"^[ \t]*(?:(?:public|private|internal|open|fileprivate|static|final|override)[ \t]+)*(?:func|class|struct|enum|protocol|extension)[ \t]+([A-Za-z_]\w*)",
    "lua": r"^[ \t]*(?:local[ \t]+)?function[ \t]+([\w.:]+)",
    "shell": r"^[ \t]*(?:function[ \t]+)?([A-Za-z_][\w-]*)[ \t]*\(\)[ \t]*\{?",
    "markdown": r"^(#{1,3}[ \t]+.+)$",
    "scala": r"^[ \t]*(?:(?:private|protected|override|final|case|implicit|sealed|abstract)[ \t]+)*(?:def|class|object|trait)[ \t]+([A-Za-z_]\w*)",
}
_DEFS["typescript"] = _DEFS["javascript"] + r"|^[ \t]*(?:export[ \t]+)?(?:interface|type|enum)[ \t]+([A-Za-z_$][\w$]*)"
_DEFS["cpp"] = _DEFS["c"] + r"|^[ \t]*(?:class|namespace)[ \t]+([A-Za-z_]\w*)"


class _Compiled(dict):
    """language -> its pattern, compiled when a file of that language is first met: compiling
    them all at import cost a cold `coda ask` 10-20 ms before its model loaded. Two index
    threads meeting a language at once both compile it: the same pattern, either kept."""

    def __init__(self, make) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, language: str) -> re.Pattern:
        pattern = self[language] = self.make(_DEFS[language])
        return pattern

    def get(self, language, default=None):
        return self[language] if language in _DEFS else default


_COMPILED = _Compiled(lambda rx: re.compile(rx, re.MULTILINE))


def _after_newline(rx: str) -> str:
    """`rx` with each line start (^ outside a character class) spelled as the newline before
    it. Run over the text with a newline put in front, it finds the same definitions, but
    the engine can then jump from newline to newline instead of trying every position,
    which was a third of the index's time."""
    out, in_class, escaped = [], False, False
    for i, c in enumerate(rx):
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif in_class:
            in_class = c != "]" or rx[i - 1] == "["
        elif c == "[":
            in_class = True
        elif c == "^":
            c = "\n"
        out.append(c)
    return "".join(out)


# For chunk(): match offsets in "\n" + text are those of the definition lines in the text.
_SCAN = _Compiled(lambda rx: re.compile(_after_newline(rx), re.MULTILINE))
# Python's definitions, found from their keyword instead: the keyword is a literal the engine
# jumps to, where the pattern above is tried at every line (a third of a cold index of a
# Python project). A hit counts when the text before it on its line is what _DEFS allows.
_KEYWORD_SCANS = {"python": ((re.compile(r"def[ \t]+([A-Za-z_]\w*)"), re.compile(r"class[ \t]+([A-Za-z_]\w*)")),
                             re.compile(r"[ \t]*(?:async[ \t]+)?"))}
# Languages whose chunk names are definitions of identifiers (a Markdown heading is not).
CODE_LANGUAGES = frozenset(_DEFS) - {"markdown"}
_NAME_PARTS = re.compile(r"[\s.:]+")


def defined_names(name: str) -> list[str]:
    """The identifiers a chunk of code defines, from its name ("Lexer.next" defines "next"
    and "Lexer"; a joined chunk's name holds several)."""
    return [part for part in _NAME_PARTS.split(name) if part]


def definition_depth(text: str, language: str, name: str) -> int:
    """How deeply `name`'s definition in this chunk is indented: a top-level class or
    function (0) is what a search for its name means, more than a method or a test's
    local helper of the same name. Large when the chunk does not define it."""
    pattern = _COMPILED.get(language)
    for m in pattern.finditer(text) if pattern else ():
        if name in defined_names(next((g for g in m.groups() if g), "")):
            line_start = text.rfind("\n", 0, m.start()) + 1
            line = text[line_start:m.end()]
            return len(line) - len(line.lstrip(" \t"))
    return 1_000


@dataclass(frozen=True)
class Chunk:
    start: int  # 1-based, inclusive
    end: int
    name: str  # the definition's name ("" for a preamble or a window)
    text: str


@lru_cache(maxsize=512)
def language_for(name: str) -> str | None:
    """The language of a file name: a table for the common suffixes, Pygments for the rest."""
    dot = name.rfind(".")
    suffix = name[dot:].lower() if dot > 0 else ""
    if suffix in _SUFFIX:
        return _SUFFIX[suffix]
    try:
        from pygments.lexers import get_lexer_for_filename
        from pygments.util import ClassNotFound

        try:
            return get_lexer_for_filename(name).name.lower()
        except ClassNotFound:
            return None
    except ImportError:  # pragma: no cover - pygments is a dependency
        return None


def chunk(text: str, language: str | None) -> list[Chunk]:
    lines = text.splitlines()
    if not lines:
        return []
    pattern = _SCAN.get(language or "")
    starts: list[tuple[int, str]] = []
    if language in _KEYWORD_SCANS:
        starts = _keyword_starts(text, *_KEYWORD_SCANS[language])
    elif pattern is not None:
        # Line number of each match from its offset: count newlines incrementally.
        line_no, pos = 1, 0
        for m in pattern.finditer("\n" + text):
            line_no += text.count("\n", pos, m.start())
            pos = m.start()
            name = next((g for g in m.groups() if g), "")
            starts.append((line_no, name))
    if not starts or starts[0][0] != 1:
        starts.insert(0, (1, ""))
    starts = _join_short(starts, len(lines))
    chunks: list[Chunk] = []
    for i, (start, name) in enumerate(starts):
        end = starts[i + 1][0] - 1 if i + 1 < len(starts) else len(lines)
        if end < start:
            continue
        if end - start + 1 <= MAX_CHUNK_LINES:
            chunks.append(Chunk(start, end, name, "\n".join(lines[start - 1 : end])))
            continue
        # A long definition (or a file of no known language): windows, the first one named.
        for w in range(start, end + 1, WINDOW):
            w_end = min(end, w + WINDOW - 1)
            chunks.append(Chunk(w, w_end, name if w == start else "", "\n".join(lines[w - 1 : w_end])))
    return [c for c in chunks if c.text.strip()]


def _keyword_starts(text: str, keywords: tuple[re.Pattern, ...], before: re.Pattern) -> list[tuple[int, str]]:
    """(line, name) of each definition, as the language's _SCAN pattern finds them."""
    found = []
    for rx in keywords:
        for m in rx.finditer(text):
            line_start = text.rfind("\n", 0, m.start()) + 1
            if before.fullmatch(text, line_start, m.start()):
                found.append((m.start(), line_start, m.group(1)))
    found.sort()
    starts, line_no, pos = [], 1, 0
    for _, line_start, name in found:
        line_no += text.count("\n", pos, line_start)
        pos = line_start
        starts.append((line_no, name))
    return starts


def _join_short(starts: list[tuple[int, str]], total: int) -> list[tuple[int, str]]:
    joined: list[tuple[int, str]] = []
    for i, (start, name) in enumerate(starts):
        if joined:
            prev_start, prev_name = joined[-1]
            if start - prev_start < MIN_CHUNK_LINES:
                joined[-1] = (prev_start, f"{prev_name} {name}".strip())
                continue
        joined.append((start, name))
    return joined
