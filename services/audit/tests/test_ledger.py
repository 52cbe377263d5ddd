"""The ledger's rules: evidence in the log, a decision not in the future, the stream an entry goes on."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from contracts.inspection_events import AccountabilityRecordedPayload, ledger_stream_id
from services.audit import ledger

TODAY = date(2026, 11, 24)
EVIDENCE = [uuid4(), uuid4()]


def _entry(*, evidence=EVIDENCE, decided_on=TODAY, case_id=None) -> ledger.Entry:
    payload = AccountabilityRecordedPayload(finding="overdue_case", measure="warning", description="超期未办",
                                            evidence_event_ids=evidence, decided_on=decided_on)
    return ledger.Entry(township_id="qingshui", case_id=case_id, payload=payload)


def test_an_entry_whose_evidence_is_all_in_the_log_passes():
    ledger.check_entry(_entry(), found_evidence=set(EVIDENCE), today=TODAY)


def test_evidence_missing_from_the_log_is_named():
    with pytest.raises(ledger.EvidenceNotInLog) as refused:
        ledger.check_entry(_entry(), found_evidence={EVIDENCE[0]}, today=TODAY)
    assert refused.value.details == {"missing": [str(EVIDENCE[1])]}
    assert refused.value.code == "EVIDENCE_NOT_IN_LOG" and "审计日志" in refused.value.message


def test_an_entry_needs_evidence():
    with pytest.raises(ledger.EvidenceRequired):
        ledger.check_entry(_entry(evidence=[]), found_evidence=set(), today=TODAY)


def test_a_decision_may_not_be_dated_tomorrow():
    with pytest.raises(ledger.DecidedInFuture):
        ledger.check_entry(_entry(decided_on=date(2026, 11, 25)), found_evidence=set(EVIDENCE), today=TODAY)


def test_an_entry_goes_on_its_case_or_the_townships_ledger_stream():
    case_id = uuid4()
    assert ledger.stream_of(_entry(case_id=case_id)) == case_id
    assert ledger.stream_of(_entry()) == ledger_stream_id("qingshui") != ledger_stream_id("baishi")
