"""The text shapes of consultations, complaints and referrals, sized to their events' fields."""

from __future__ import annotations

from services.kit.fields import text

Question = text(500, min_length=1)
Answer = text(1000, min_length=1, multiline=True)
Subject = text(100, min_length=1)
ComplaintContent = text(2000, min_length=1, multiline=True)
Matter = text(200, min_length=1)
Place = text(100, min_length=1)
Address = text(200)
OfficeHours = text(100)
Note = text(500)
