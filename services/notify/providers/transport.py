"""One HTTP call to a provider, its failures put in the classes of classify.py."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from services.kit.clock import Clock
from services.notify.providers.classify import OutcomeUnknown, ProviderError
from services.notify.providers.config import ProviderSettings, ProviderTemplate


class TemplatedProvider:
    """What both contracted providers share: settings, our template codes mapped to theirs, one HTTP client."""

    name = ""

    def __init__(self, settings: ProviderSettings, templates: Mapping[str, ProviderTemplate],
                 client: httpx.AsyncClient, clock: Clock) -> None:
        self._settings, self._templates, self._client, self._clock = settings, templates, client, clock

    def _template(self, template_code: str) -> ProviderTemplate:
        """The provider's template for ours; one missing from the mapping is a technical failure (the secondary
        may have it)."""
        template = self._templates.get(template_code)
        if template is None:
            raise ProviderError(self.name, "TEMPLATE_NOT_MAPPED", "technical", template_code)
        return template


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
