"""Reconciliation of the exported log with the events still on Kafka (`export --kafka`): every event on
a topic must be in the export with the same content (services.audit.reconcile)."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from services.audit import kafka_scan, reconcile
from services.audit.verify import OK, TAMPERED, Verdict


async def reconcile_with_kafka(bootstrap: str, logged: Mapping[UUID, str]) -> Verdict:
    """`logged`: event_id → sha256 hex of the exported record's canonical envelope text."""
    with kafka_scan.progress_bar("对账 Kafka") as progress:
        report = await reconcile.reconcile(bootstrap, logged, progress=progress)
    # A forged copy beside the logged one was refused by audit, yet somebody wrote it to Kafka: a finding.
    return Verdict(OK if report.agrees and not report.forged_copies else TAMPERED, reconcile.report_lines(report))
