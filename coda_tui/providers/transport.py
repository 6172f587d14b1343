"""Turn transport failures (httpx, sockets, JSON) into typed provider errors.

The openai and ollama clients both sit on httpx, and both sometimes wrap its exceptions;
walking the cause/context chain lets us tell a refused connection from a DNS failure
even through their wrappers.
"""

from __future__ import annotations

import json
import socket
from typing import Iterator

from coda_tui.providers import errors as E


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        cur = cur.__cause__ or cur.__context__


def _has(chain: list[BaseException], *names: str) -> bool:
    """Does any exception in the chain have a class (or base class) of one of these names?
    By name, because the openai client ships its own fork of httpx (httpx2) whose classes
    are not httpx's, while the ollama client uses httpx itself."""
    return any(k.__name__ in names for c in chain for k in type(c).__mro__)


_TIMEOUT = ("TimeoutException", "TimeoutError", "APITimeoutError")
_CLOSED = ("RemoteProtocolError", "ReadError", "ConnectionResetError", "BrokenPipeError", "IncompleteRead")
_NETWORK = ("TransportError", "NetworkError", "ConnectionError", "OSError", "APIConnectionError")


def map_transport_error(
    exc: BaseException, *, provider: str, endpoint: str, got_text: bool, timeout: float
) -> E.ProviderError | None:
    """A typed error for a failure below HTTP status level, or None if it is not one."""
    chain = list(exception_chain(exc))
    text = " ".join(str(c) for c in chain).lower()
    if got_text and _has(chain, *_TIMEOUT, *_CLOSED, *_NETWORK):
        cause = f"stalled for {timeout:g} s" if _has(chain, *_TIMEOUT) else "closed the connection"
        return E.StreamInterrupted(
            provider,
            f"the answer from {endpoint} stopped part-way ({cause})",
            hint="what arrived is kept as a partial answer; retry to get a full one",
            endpoint=endpoint,
        )
    if any(isinstance(c, socket.gaierror) for c in chain) or any(
        s in text for s in ("name or service not known", "nodename nor servname", "temporary failure in name resolution", "no address associated")
    ):
        return E.DNSFailure(
            provider,
            f"cannot resolve the host of {endpoint}",
            hint="check the URL in the config (base_url / host) or your network",
            endpoint=endpoint,
        )
    if _has(chain, "ConnectionRefusedError") or "connection refused" in text or "connect call failed" in text:
        return E.ConnectionRefused(
            provider,
            f"connection refused at {endpoint}",
            hint="is the server running and listening there?",
            endpoint=endpoint,
        )
    if _has(chain, *_TIMEOUT):
        return E.ProviderTimeout(
            provider,
            f"no response from {endpoint} within {timeout:g} s",
            hint="the server may be overloaded or loading a model; raise 'timeout' in the provider's config",
            endpoint=endpoint,
        )
    if _has(chain, *_CLOSED):
        return E.ServerError(
            provider,
            f"{endpoint} closed the connection before answering",
            hint="retry; if it persists, check the server's log",
            endpoint=endpoint,
        )
    if any(isinstance(c, UnicodeDecodeError) for c in chain):
        # The client library decodes the stream itself, so bytes that are not UTF-8 end it.
        if got_text:
            return E.StreamInterrupted(
                provider,
                f"{endpoint} sent bytes that are not UTF-8 part-way through the answer",
                hint="what arrived is kept as a partial answer",
                endpoint=endpoint,
            )
        return E.BadResponse(provider, f"{endpoint} answered with bytes that are not UTF-8 text", endpoint=endpoint)
    if _has(chain, *_NETWORK):
        return E.ConnectionRefused(
            provider, f"cannot connect to {endpoint}: {chain[-1]}", hint="check the URL and that the server is up", endpoint=endpoint
        )
    if any(isinstance(c, json.JSONDecodeError) for c in chain):
        return bad_json(provider, endpoint, got_text)
    return None


def bad_json(provider: str, endpoint: str, got_text: bool) -> E.ProviderError:
    if got_text:
        return E.StreamInterrupted(
            provider,
            f"{endpoint} sent malformed JSON part-way through the answer",
            hint="what arrived is kept as a partial answer",
            endpoint=endpoint,
        )
    return E.BadResponse(
        provider,
        f"{endpoint} did not answer in the expected JSON format",
        hint="is the URL pointing at the right kind of server?",
        endpoint=endpoint,
    )


def status_error(
    status: int,
    body: str,
    *,
    provider: str,
    endpoint: str,
    model: str,
    retry_after: float | None = None,
    key_hint: str = "check the API key",
    pull_hint: str = "",
) -> E.ProviderError:
    """A typed error for an HTTP error status; `body` is trimmed and never echoed whole."""
    detail = " ".join(body.split())[:200]
    if status in (401, 403):
        return E.AuthError(
            provider,
            f"{endpoint} refused the credentials (HTTP {status})",
            hint=key_hint,
            endpoint=endpoint,
        )
    if status == 404:
        hint = pull_hint or f"run 'coda models --provider {provider}' to see what it offers"
        return E.ModelNotFound(
            provider, f"model '{model}' not found at {endpoint} (HTTP 404: {detail})", hint=hint, endpoint=endpoint
        )
    if status == 429:
        wait = f"; the server asks to wait {retry_after:g} s" if retry_after is not None else ""
        return E.RateLimited(
            provider,
            f"rate limited by {endpoint} (HTTP 429){wait}",
            hint="wait a little, or lower the request rate",
            endpoint=endpoint,
            retry_after=retry_after,
        )
    if status >= 500:
        return E.ServerError(
            provider,
            f"{endpoint} failed with HTTP {status}: {detail}",
            hint="a server-side problem; retry later or check the server's log",
            endpoint=endpoint,
            status=status,
        )
    return E.BadResponse(provider, f"{endpoint} rejected the request (HTTP {status}): {detail}", endpoint=endpoint)
