"""Realistic model answers for the TUI benchmarks: Markdown with headings, prose, lists and
fenced code, cut into model-sized tokens. Deterministic (seeded), so runs compare."""

from __future__ import annotations

import random
import re

_WORDS = (
    "the function returns a list of values from the cache when the key is present otherwise "
    "it reads the file parses each line and stores the result so that later calls are fast "
    "this keeps memory bounded because old entries are evicted first and the lock is held "
    "only while the dictionary changes which avoids blocking readers during slow input output"
).split()

_CODE = [
    "def load(path: str) -> dict[str, int]:\n    counts: dict[str, int] = {}\n    with open(path) as f:\n"
    "        for line in f:\n            key, _, value = line.partition('=')\n            counts[key.strip()] = int(value)\n"
    "    return counts\n",
    "class LRU:\n    def __init__(self, size: int) -> None:\n        self.size = size\n        self.data: OrderedDict = OrderedDict()\n\n"
    "    def get(self, key):\n        if key in self.data:\n            self.data.move_to_end(key)\n            return self.data[key]\n"
    "        return None\n",
    "async def fetch_all(urls: list[str]) -> list[bytes]:\n    async with httpx.AsyncClient(timeout=10) as client:\n"
    "        responses = await asyncio.gather(*(client.get(u) for u in urls))\n    return [r.content for r in responses]\n",
    "for i, row in enumerate(rows):\n    if not row:\n        continue\n    total += row['amount'] * rates.get(row['currency'], 1.0)\n",
]


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 22))]
    words[0] = words[0].capitalize()
    if rng.random() < 0.3:
        i = rng.randrange(len(words))
        words[i] = f"`{words[i]}()`"
    if rng.random() < 0.2:
        i = rng.randrange(len(words))
        words[i] = f"**{words[i]}**"
    return " ".join(words) + "."


def answer(rng: random.Random, paragraphs: int) -> str:
    """A Markdown answer of about `paragraphs` blocks."""
    parts: list[str] = []
    for i in range(paragraphs):
        kind = rng.random()
        if i and i % 7 == 0:
            parts.append(f"## Step {i // 7}: {' '.join(rng.choice(_WORDS) for _ in range(4))}")
        elif kind < 0.55:
            parts.append(" ".join(_sentence(rng) for _ in range(rng.randint(2, 5))))
        elif kind < 0.75:
            parts.append("\n".join(f"- {_sentence(rng)}" for _ in range(rng.randint(2, 5))))
        else:
            parts.append(f"```python\n{rng.choice(_CODE)}```")
    return "\n\n".join(parts) + "\n"


def question(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(1, 3)))


_TOKEN = re.compile(r"\s*[^\s]{1,5}|\s+")


def tokens(text: str) -> list[str]:
    """Text cut like a model's tokens: short word pieces with their leading space."""
    return _TOKEN.findall(text)


def streamed_answer(n_tokens: int, end_marker: str, seed: int = 7) -> list[str]:
    """Exactly `n_tokens` tokens of Markdown, the last one being `end_marker` (a word found
    nowhere else, so a screen showing it shows the end of the answer)."""
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < n_tokens - 1:
        out.extend(tokens(answer(rng, 12)))
    out = out[: n_tokens - 1]
    # Close an open code fence, so the marker ends up in a paragraph of its own.
    if sum(t.count("```") for t in out) % 2:
        out[-1:] = ["\n```"]
    out.append("\n\n" + end_marker)
    return out
