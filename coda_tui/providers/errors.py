"""Typed provider errors: each says which provider, where, and what the user can do."""

from __future__ import annotations

from coda_tui.errors import CodaError
from coda_tui.redact import mask_url_password


class ProviderError(CodaError):
    """Base class. `retryable` errors may be retried with backoff before the first token."""

    retryable = False
    kind = "error"

    def __init__(self, provider: str, message: str, *, hint: str = "", endpoint: str = "") -> None:
        # Library messages can quote the URL they were given, password and all.
        self.provider = provider
        self.endpoint = mask_url_password(endpoint)
        super().__init__(mask_url_password(message), mask_url_password(hint))

    def render(self) -> str:
        text = f"{self.provider}: {self.message}"
        if self.hint:
            text += f" — {self.hint}"
        return text


class ConnectionRefused(ProviderError):
    kind = "connection_refused"


class DNSFailure(ProviderError):
    kind = "dns_failure"


class ProviderTimeout(ProviderError):
    kind = "timeout"
    retryable = True


class NoFirstByte(ProviderError):
    """Nothing arrived within first_byte_timeout, retries included: the wait is over."""

    kind = "timeout"


class AuthError(ProviderError):
    kind = "auth"


class ModelNotFound(ProviderError):
    kind = "model_not_found"


class RateLimited(ProviderError):
    kind = "rate_limited"
    retryable = True

    def __init__(self, *args, retry_after: float | None = None, **kwargs) -> None:
        self.retry_after = retry_after
        super().__init__(*args, **kwargs)


class ServerError(ProviderError):
    kind = "server_error"
    retryable = True

    def __init__(self, *args, status: int | None = None, **kwargs) -> None:
        self.status = status
        super().__init__(*args, **kwargs)


class StreamInterrupted(ProviderError):
    """The connection ended after some of the answer had arrived; what arrived is kept."""

    kind = "stream_interrupted"


class AnswerTooLong(StreamInterrupted):
    """The server went on past any answer max_tokens allows; coda stopped reading."""

    kind = "answer_too_long"


class BadResponse(ProviderError):
    """The server answered, but not in the wire format we speak (HTML, malformed JSON)."""

    kind = "bad_response"


class ProviderUnavailable(ProviderError):
    """The provider cannot run here at all (missing package, missing model file)."""

    kind = "unavailable"


class ToolsUnsupported(ProviderError):
    """This provider, or this model behind it, cannot be offered tools: the turn goes on
    without them (and says so once)."""

    kind = "tools_unsupported"


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds; HTTP dates are rare from model APIs and read as 'unknown'."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
