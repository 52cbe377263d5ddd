"""The audit service as the verifier sees it: an untrusted source of proofs and records."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from services.audit.verify import Unusable


def _message(resp: httpx.Response) -> str:
    try:
        body = resp.json()
        return f"{body.get('code', '')} {body.get('message', '')}".strip()
    except ValueError:
        return resp.text[:200]


class AuditServer:
    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client, self.headers = client, {"Authorization": f"Bearer {token}"}

    async def get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            resp = await self.client.get(path, params=params, headers=self.headers)
        except httpx.HTTPError as exc:
            raise Unusable(f"无法访问审计服务：{exc!r}") from exc
        if resp.status_code != 200:
            raise Unusable(f"审计服务拒绝了请求 {path}（HTTP {resp.status_code}）：{_message(resp)}")
        return resp.json()

    async def export_lines(self) -> AsyncIterator[str]:
        try:
            async with self.client.stream("GET", "/api/v1/export", headers=self.headers) as resp:
                if resp.status_code != 200:
                    await resp.aread()
                    raise Unusable(f"审计服务拒绝了导出（HTTP {resp.status_code}）：{_message(resp)}")
                async for line in resp.aiter_lines():
                    if line:
                        yield line
        except httpx.HTTPError as exc:
            raise Unusable(f"导出中断：{exc!r}") from exc
