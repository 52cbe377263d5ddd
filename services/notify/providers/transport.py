"""One HTTP call to a provider, its failures put in the classes of classify.py."""

from __future__ import annotations

from typing import Any

import httpx

from services.notify.providers.classify import OutcomeUnknown, ProviderError


async def post(client: httpx.AsyncClient, provider: str, url: str, **request: Any) -> tuple[int, Any]:
    """The status and JSON body of a POST; a refused connection is technical (nothing went out), a
    connection lost after the request was written leaves the outcome unknown."""
    try:
        resp = await client.post(url, **request)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise ProviderError(provider, "UNREACHABLE", "technical", type(exc).__name__) from None
    except httpx.HTTPError as exc:
        raise OutcomeUnknown(provider, type(exc).__name__) from None
    if resp.status_code >= 500:
        raise ProviderError(provider, f"HTTP_{resp.status_code}", "technical", resp.text[:200])
    try:
        return resp.status_code, resp.json()
    except ValueError:
        raise ProviderError(provider, "BAD_RESPONSE", "technical", f"HTTP {resp.status_code}") from None
