"""Token estimates for budgeting, before a model's own tokenizer has seen the text.

About 3.5 characters a token for English and code with BPE vocabularies; rounding up
keeps budgets on the safe side. Servers report real counts afterwards, and those are
what gets stored.
"""

from __future__ import annotations

import math

CHARS_PER_TOKEN = 3.5


def estimate_tokens(text: str) -> int:
    if not text:
        return 0
    return math.ceil(len(text) / CHARS_PER_TOKEN)
