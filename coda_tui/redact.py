"""Scrub secrets from anything coda writes out: traces, logs, errors, exports, the database.

Two nets: the exact key values in force (from the config and environment), and patterns
for credentials that look like keys whatever their source.
"""

from __future__ import annotations

import re

MASK = "[REDACTED]"

# scheme://user:password@host: the user name stays, so the message still says who.
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s/:@'\"]*:)[^\s/@'\"]+@")


def mask_url_password(text: str) -> str:
    """"http://user:hunter2@host/v1" -> "http://user:***@host/v1", anywhere in `text`."""
    return _URL_PASSWORD.sub(r"\1***@", text)

_PATTERNS = [
    re.compile(r"\bsk-[A-Za-z0-9_\-]{12,}"),
    re.compile(r"(?i)\b(authorization\s*[:=]\s*)(bearer\s+)?[^\s'\",]+"),
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9_\-\.=]{8,}"),
    re.compile(r"(?i)\b(api[_-]?key\s*[:=]\s*['\"]?)[A-Za-z0-9_\-\.]{8,}"),
]


class Redactor:
    def __init__(self, secrets: list[str] | None = None) -> None:
        # Short values would mask ordinary words; real keys are long.
        self.secrets = sorted({s for s in (secrets or []) if len(s) >= 8}, key=len, reverse=True)

    def exact(self, text: str) -> str:
        """Only the known key values: for text that is the user's own (message content)."""
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def __call__(self, text: str | None) -> str | None:
        if not text:
            return text
        text = self.exact(text)
        for pattern in _PATTERNS:
            text = pattern.sub(_mask_keep_prefix, text)
        return mask_url_password(text)


def _mask_keep_prefix(m: re.Match) -> str:
    # Keep "Authorization: " / "api_key=" so the message still says what was hidden.
    if m.lastindex and m.group(1):
        return m.group(1) + MASK
    return MASK


class StreamScrubber:
    """Exact key values masked in a stream split anywhere: a chunk's tail that could be the
    start of a key is held back until the next chunk shows whether it is one."""

    def __init__(self, redactor: Redactor) -> None:
        self.secrets = redactor.secrets
        self.pending = ""

    def feed(self, chunk: str) -> str:
        if not self.secrets:
            return chunk
        text = self.pending + chunk
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        hold = 0
        for secret in self.secrets:
            for k in range(min(len(secret) - 1, len(text)), hold, -1):
                if text.endswith(secret[:k]):
                    hold = k
                    break
        self.pending = text[len(text) - hold:] if hold else ""
        return text[: len(text) - hold]

    def flush(self) -> str:
        out, self.pending = self.pending, ""
        return out
