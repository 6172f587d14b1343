"""Pulling structure out of a model's answer without trusting it to follow instructions.

Small models wrap JSON in prose, use single fences or none, score out of 10 or 100, or
ignore the format altogether. Each helper here returns what it found or None; the
operation decides what "not found" means and says so in its result's note.
"""

from __future__ import annotations

import json
import math
import re

_FENCE = re.compile(r"^(`{3,}|~{3,})[ \t]*([\w+.#-]*)[^\n]*\n(.*?)^\1[ \t]*$", re.DOTALL | re.MULTILINE)
_SCORE = re.compile(
    r"\bscore\b[^0-9\n]{0,20}?(\d+(?:\.\d+)?)\s*(?:(/|out of)\s*(\d+(?:\.\d+)?)|(%))?", re.IGNORECASE
)


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language, body) of each fenced block, in order."""
    return [(m.group(2).lower(), m.group(3)) for m in _FENCE.finditer(text)]


def code_blocks(text: str, exclude: tuple[str, ...] = ("json", "diff", "patch")) -> list[str]:
    return [body for lang, body in fenced_blocks(text) if lang not in exclude]


def json_object(text: str) -> dict | None:
    """The first JSON object in the answer: a ```json block, else any balanced {...}."""
    candidates = [body for lang, body in fenced_blocks(text) if lang in ("json", "")]
    candidates += list(_balanced_objects(text))
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def _balanced_objects(text: str):
    """Substrings from a '{' to its matching '}', strings in quotes respected."""
    for start in (i for i, ch in enumerate(text) if ch == "{"):
        depth, in_string, escaped = 0, False, False
        for j in range(start, len(text)):
            ch = text[j]
            if in_string:
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == '"':
                    in_string = False
            elif ch == '"':
                in_string = True
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    yield text[start : j + 1]
                    break


def normalise_score(value) -> float | None:
    """A score on 0–1 from 0–1, 0–10 or 0–100; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip().rstrip("%"))
        except ValueError:
            return None
    if not isinstance(value, (int, float)) or math.isnan(value) or value < 0:
        return None
    for scale in (1, 10, 100):
        if value <= scale:
            return round(value / scale, 4)
    return None


def score_in_text(text: str) -> float | None:
    """"score: 0.7", "Score 7/10", "score of 85%" in prose."""
    m = _SCORE.search(text)
    if not m:
        return None
    value = float(m.group(1))
    if m.group(3):
        total = float(m.group(3))
        return round(value / total, 4) if 0 < total and value <= total else None
    if m.group(4):
        return round(value / 100, 4) if value <= 100 else None
    return normalise_score(value)


def string_list(value) -> list[str]:
    """A list of strings from whatever the model put there (a string, dicts, numbers)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return [str(value)]
    out = []
    for item in value:
        if isinstance(item, dict):
            text = item.get("message") or item.get("description") or item.get("issue") or item.get("text")
            out.append(str(text) if text else json.dumps(item, ensure_ascii=False))
        elif item is not None and str(item).strip():
            out.append(str(item))
    return out


def issue_list(value) -> list[dict]:
    """Issues as {"message", "line", "severity"} dicts; strings become messages."""
    if value is None:
        return []
    if isinstance(value, (str, dict)):
        value = [value]
    if not isinstance(value, list):
        return [{"message": str(value)}]
    out = []
    for item in value:
        if isinstance(item, dict):
            message = string_list([item])[0]
            issue = {"message": message}
            line = item.get("line")
            if isinstance(line, int) and not isinstance(line, bool):
                issue["line"] = line
            if isinstance(item.get("severity"), str):
                issue["severity"] = item["severity"]
            out.append(issue)
        elif item is not None and str(item).strip():
            out.append({"message": str(item)})
    return out
