"""A generated source tree for the index benchmarks: mixed languages, realistic sizes."""

from __future__ import annotations

import random
from pathlib import Path

PY = '''"""Module {n}: helpers for {topic}."""

import os
from dataclasses import dataclass


@dataclass
class {cls}:
    name: str
    size: int = 0

    def describe(self) -> str:
        return f"{{self.name}} ({{self.size}})"


def {fn}(items, limit={k}):
    """Return the first items under the limit, sorted."""
    out = []
    for item in items:
        if len(out) >= limit:
            break
        if item.size < limit:
            out.append(item)
    return sorted(out, key=lambda i: i.size)


def {fn}_total(items):
    total = 0
    for item in items:
        total += item.size
    return total
'''

JS = '''// {topic} component {n}
export function {fn}(props) {{
  const items = props.items || [];
  return items.filter((x) => x.size < {k}).map((x) => x.name);
}}

export class {cls} {{
  constructor(name) {{
    this.name = name;
  }}
  render() {{
    return `<div>${{this.name}}</div>`;
  }}
}}

const helper{n} = (a, b) => a + b;
'''

GO = '''package {topic}

import "fmt"

type {cls} struct {{
	Name string
	Size int
}}

func {fn}(items []{cls}, limit int) []{cls} {{
	out := []{cls}{{}}
	for _, it := range items {{
		if it.Size < limit {{
			out = append(out, it)
		}}
	}}
	fmt.Println(len(out))
	return out
}}
'''

MD = '''# {cls}

Notes about {topic}, part {n}.

## Usage

Call `{fn}` with a list of items and a limit of {k}.
'''

TOPICS = ["billing", "search", "auth", "storage", "render", "network", "parser", "metrics", "queue", "cache"]


def generate(root: Path, files: int = 10_000, seed: int = 7) -> list[Path]:
    rnd = random.Random(seed)
    made = []
    (root / ".gitignore").parent.mkdir(parents=True, exist_ok=True)
    (root / ".gitignore").write_text("build/\n*.log\n")
    for n in range(files):
        topic = TOPICS[n % len(TOPICS)]
        folder = root / topic / f"pkg{n % 97:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        kind = rnd.random()
        fmt = dict(n=n, topic=topic, cls=f"{topic.title()}Item{n}", fn=f"select_{topic}_{n}", k=rnd.randint(3, 99))
        if kind < 0.55:
            path, text = folder / f"mod_{n}.py", PY.format(**fmt) * rnd.randint(2, 6)
        elif kind < 0.8:
            path, text = folder / f"comp_{n}.js", JS.format(**fmt) * rnd.randint(2, 6)
        elif kind < 0.92:
            path, text = folder / f"file_{n}.go", GO.format(**fmt) * rnd.randint(2, 5)
        else:
            path, text = folder / f"notes_{n}.md", MD.format(**fmt)
        path.write_text(text)
        made.append(path)
    return made
