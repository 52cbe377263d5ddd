"""Intake needs nothing beyond the kit; its runtime type, for whoever uses it."""

from __future__ import annotations

from services.intake.settings import IntakeSettings
from services.kit.service import Runtime

IntakeRuntime = Runtime[IntakeSettings, None]
