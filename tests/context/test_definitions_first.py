"""`coda search NAME` puts the definition of NAME first, in every language the chunker
knows, even where prose and callers say the name far more often (issue 12 item 8: in click,
`coda search Context` listed four docs pages before `class Context`)."""

from __future__ import annotations

import pytest

from coda_tui.context.index import CodeIndex
from coda_tui.context.project import Project

# One definition of `Widget` per language, in the file it would live in.
DEFINITIONS = {
    "python": ("widget.py", "import os\n\n\nclass Widget:\n    '''A thing on screen.'''\n\n    def draw(self):\n        return 1\n"),
    "javascript": ("widget.js", "import x from 'y';\n\nexport class Widget {\n  draw() { return 1; }\n}\n"),
    "typescript": ("widget.ts", "import x from 'y';\n\nexport interface Widget {\n  draw(): number;\n}\n"),
    "go": ("widget.go", "package ui\n\nimport \"fmt\"\n\ntype Widget struct {\n\tName string\n}\n"),
    "rust": ("widget.rs", "use std::fmt;\n\npub struct Widget {\n    name: String,\n}\n"),
    "java": ("Widget.java", "package ui;\n\npublic class Widget {\n    int draw() { return 1; }\n}\n"),
    "kotlin": ("Widget.kt", "package ui\n\ndata class Widget(val name: String)\n"),
    "csharp": ("Widget.cs", "using System;\n\npublic class Widget {\n    int Draw() { return 1; }\n}\n"),
    "c": ("widget.h", "#include <stdio.h>\n\nstruct Widget {\n    int width;\n};\n"),
    "cpp": ("widget.hpp", "#include <string>\n\nclass Widget {\n  int draw();\n};\n"),
    "ruby": ("widget.rb", "require 'set'\n\nclass Widget\n  def draw; 1; end\nend\n"),
    "php": ("Widget.php", "<?php\nnamespace Ui;\n\nclass Widget {\n    function draw() { return 1; }\n}\n"),
    "swift": ("Widget.swift", "import Foundation\n\nstruct Widget {\n    var name: String\n}\n"),
    "lua": ("widget.lua", "local M = {}\n\nfunction Widget(name)\n  return { name = name }\nend\n"),
    "shell": ("widget.sh", "#!/bin/sh\nset -e\n\nWidget() {\n  echo drawn\n}\n"),
    "scala": ("Widget.scala", "package ui\n\nclass Widget(name: String) {\n  def draw = 1\n}\n"),
}


def test_every_language_the_chunker_knows_is_covered():
    from coda_tui.context.chunker import CODE_LANGUAGES

    assert set(DEFINITIONS) == set(CODE_LANGUAGES)


def _project(tmp_path, language: str):
    root = tmp_path / language
    name, text = DEFINITIONS[language]
    files = {
        f"src/{name}": text,
        # Prose and callers that say "Widget" far more often than its definition does.
        "docs/widgets.md": "# Widget\n\nA Widget draws. Widget Widget Widget.\n\n## Widget options\n\nEvery Widget has options.\n",
        "docs/guide.md": "## Using a Widget\n\nMake a Widget, then draw the Widget.\n",
        "README.md": "# Widget toolkit\n\nWidget, Widget, Widget: see docs.\n",
    }
    for i in range(3):
        files[f"app/screen{i}.py"] = "".join(f"w{j} = make_widget('Widget')  # a Widget\n" for j in range(6))
    for rel, body in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    return root, f"src/{name}"


@pytest.mark.parametrize("language", sorted(DEFINITIONS))
def test_the_definition_of_an_exact_identifier_comes_first(tmp_path, language):
    root, defined_in = _project(tmp_path, language)
    index = CodeIndex(tmp_path / "index.db", Project(root))
    try:
        index.update()
        hits = index.search("Widget", limit=5)
        asked = index.search("how is Widget drawn?", limit=5)
    finally:
        index.close()
    assert hits[0].path == defined_in and "Widget" in hits[0].name.split()
    assert asked[0].path == defined_in


def test_top_level_code_before_nested_and_test_helpers(tmp_path):
    root = tmp_path / "p"
    files = {
        "tests/test_echo.py": "def test_it():\n    def echo(x):\n        return x\n    assert echo(1)\n" + "# echo echo echo\n" * 5,
        "pkg/stream.py": "class Stream:\n    def echo(self, x):\n        return x\n",
        "pkg/utils.py": "import sys\n\n\ndef echo(message):\n    '''Print a message.'''\n    sys.stdout.write(message)\n",
    }
    for rel, body in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(body)
    index = CodeIndex(tmp_path / "index.db", Project(root))
    try:
        index.update()
        hits = index.search("echo", limit=5)
    finally:
        index.close()
    assert [h.path for h in hits[:3]] == ["pkg/utils.py", "pkg/stream.py", "tests/test_echo.py"]
    assert hits[0].defines == "echo"
