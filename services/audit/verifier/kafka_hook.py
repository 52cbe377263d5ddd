"""Reconciliation of the exported log with the events still on Kafka (`export --kafka`).

services.audit.reconcile provides `reconcile(bootstrap, logged, *, progress=None)`, logged being
event_id → sha256 hex of the record's canonical envelope text; this is its one caller here."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from uuid import UUID

from services.audit.verify import OK, TAMPERED, Unusable, Verdict


async def reconcile_with_kafka(bootstrap: str, logged: Mapping[UUID, str], *,
                               progress: Callable[[str], None] | None = None) -> Verdict:
    try:
        module = importlib.import_module("services.audit.reconcile")
    except ImportError as exc:
        raise Unusable("此版本的核验工具不含 Kafka 对账功能") from exc
    report = await module.reconcile(bootstrap, logged, progress=progress)
    lines = list(getattr(report, "lines", None) or [str(report)])
    intact = getattr(report, "ok", getattr(report, "intact", True))
    return Verdict(OK if intact else TAMPERED, lines)
