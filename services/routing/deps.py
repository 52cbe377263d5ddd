"""Routing's own dependencies, built by its app and typed for whoever uses them."""

from __future__ import annotations

from dataclasses import dataclass

from services.routing.deadlines import DeadlineScanner


@dataclass(frozen=True)
class RoutingDeps:
    deadline_scanner: DeadlineScanner
