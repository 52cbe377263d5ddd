"""Routing's own dependencies, built by its app and typed for whoever uses them."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from services.kit.service import Runtime
from services.routing.alerts import AlertPolicy
from services.routing.deadlines import DeadlineScanner
from services.routing.settings import RoutingSettings


@dataclass(frozen=True)
class RoutingDeps:
    deadline_scanner: DeadlineScanner
    alert_policy: AlertPolicy


# What this service's handlers and loops are given.
RoutingRuntime = Runtime[RoutingSettings, RoutingDeps]


def runtime_of(request: Request) -> RoutingRuntime:
    """The running service's runtime, for an endpoint."""
    return request.app.state.runtime
