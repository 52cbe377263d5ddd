"""Intake needs nothing beyond the kit; its runtime type, for whoever uses it."""

from __future__ import annotations

from fastapi import Request

from services.intake.settings import IntakeSettings
from services.kit.service import Runtime

IntakeRuntime = Runtime[IntakeSettings, None]


def runtime_of(request: Request) -> IntakeRuntime:
    """The running service's runtime, for an endpoint."""
    return request.app.state.runtime
