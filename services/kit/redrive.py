"""Asks a running service to re-drive its dead letters: python -m services.kit.redrive --service notify"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys

import httpx

from services.kit.auth import DEV_SECRET, issue_token
from services.kit.settings import ServiceSettings

SERVICES = ("intake", "routing", "notify", "audit")


def service_url(service: str) -> str:
    """The service's own settings (env prefix and default port) say where it listens."""
    module = importlib.import_module(f"services.{service}.settings")
    settings_cls = next(v for v in vars(module).values()
                        if isinstance(v, type) and issubclass(v, ServiceSettings) and v is not ServiceSettings)
    settings = settings_cls()
    return f"http://{settings.host}:{settings.port}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Re-apply a service's dead letters (admin token, HS256).")
    parser.add_argument("--service", required=True, choices=SERVICES)
    parser.add_argument("--url", help="the service's base URL; default from its settings")
    args = parser.parse_args(argv)
    token = issue_token(secret=os.environ.get("BIANMIN_JWT_SECRET", DEV_SECRET), role="admin", township_id=None,
                        sub="redrive-cli")
    url = (args.url or service_url(args.service)).rstrip("/") + "/api/v1/admin/dead-letters/redrive"
    try:
        resp = httpx.post(url, headers={"Authorization": f"Bearer {token}"}, timeout=300)
    except httpx.HTTPError as exc:
        print(f"error: {url}: {type(exc).__name__}", file=sys.stderr)
        return 2
    print(json.dumps(resp.json(), ensure_ascii=False))
    return 0 if resp.status_code == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
