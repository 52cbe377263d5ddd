"""The text shapes of a ledger entry, sized to AccountabilityRecorded's fields."""

from __future__ import annotations

from services.kit.fields import code, text

FindingCode = code(64)  # the anomaly or finding, e.g. overdue_case
Description = text(2000, min_length=1, multiline=True)  # the finding and the decision, in the inspector's words
