"""The text and number shapes of routing's casework requests, sized to their events' fields."""

from __future__ import annotations

from services.kit.fields import bounded_int, text

ExtensionDays = bounded_int(ge=1, le=60)
OfficeName = text(100, min_length=1)
DocumentNo = text(100)  # 县自然资〔2026〕88号: brackets and CJK, so not a code
