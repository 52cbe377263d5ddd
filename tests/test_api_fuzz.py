"""Schemathesis against each service's OpenAPI, in-process on real Kafka and PostgreSQL.

Every operation gets a few positive and negative examples (derandomized: the same ones every run), sent once
with a township staff token and once with a county-wide inspector token. Checks: no server error, every
status documented, every body as documented.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from services.audit.app import create_app as create_audit
from services.audit.settings import AuditSettings
from services.intake.app import create_app as create_intake
from services.intake.settings import IntakeSettings
from services.kit.testing import auth_header, start_group_at_end
from services.notify.app import create_app as create_notify
from services.notify.settings import NotifySettings
from services.routing.app import create_app as create_routing
from services.routing.settings import RoutingSettings

# schemathesis' own strategies trip this Hypothesis deprecation; nothing here draws from `random`.
pytestmark = [pytest.mark.integration,
              pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")]

SERVICES: dict[str, tuple[Callable, type]] = {
    "intake": (create_intake, IntakeSettings), "routing": (create_routing, RoutingSettings),
    "notify": (create_notify, NotifySettings), "audit": (create_audit, AuditSettings),
}
PRINCIPALS = {"township staff": auth_header("staff", "qingshui"), "county inspector": auth_header("inspector", None)}
CHECKS = [schemathesis.checks.not_a_server_error, status_code_conformance, response_schema_conformance]
# "Not ready" is what /readyz is for: a documented 503 there is an answer, not a server error.
READINESS_CHECKS = [status_code_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 25
FUZZ = settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, database=None, deadline=None,
                phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
async def service_settings(infra, make_database) -> dict[str, object]:
    suffix = f"-fuzz-{uuid.uuid4().hex[:6]}"
    built = {}
    for name, (_, settings_cls) in SERVICES.items():
        await start_group_at_end(infra.kafka_bootstrap, f"bianmin-{name}{suffix}")
        built[name] = settings_cls(DATABASE_URL=await make_database(f"fuzz_{name}"),
                                   KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap, BIANMIN_CONSUMER_GROUP_SUFFIX=suffix)
    return built


@pytest.fixture(scope="module")
def schemas(service_settings) -> Iterator[dict[str, schemathesis.schemas.BaseSchema]]:
    """Loading from the app starts its lifespan on schemathesis' own event loop, where every call then runs."""
    try:
        loaded = {name: schemathesis.openapi.from_asgi("/openapi.json", SERVICES[name][0](service_settings[name]))
                  for name in SERVICES}
        for schema in loaded.values():
            _wait_ready(schema)
        yield loaded
    finally:
        shutdown_lifespans()


def _wait_ready(schema) -> None:
    """Fuzz a service in its steady state: relay running, consumers assigned, Kafka answering."""
    with asgi.get_client(schema.app) as client:
        for _ in range(300):
            if client.get("/readyz").status_code == 200:
                return
            time.sleep(0.1)  # poll interval: schemathesis runs the app on its own thread, nothing to await
    raise AssertionError("service did not become ready")


def _fuzz(operation, failures: list[str]) -> int:
    checks = READINESS_CHECKS if operation.path == "/readyz" else CHECKS
    strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    sent = 0

    @FUZZ
    @given(case=strategy)
    def run(case) -> None:
        nonlocal sent
        for who, headers in PRINCIPALS.items():
            try:
                sent += 1
                case.call_and_validate(headers=headers, checks=checks)
            except (AssertionError, FailureGroup) as failure:  # one failed check, or several
                problems = "; ".join(str(e) for e in getattr(failure, "exceptions", [failure]))
                failures.append(f"{operation.label} as {who}: {problems}\n  sent: path={case.path_parameters} "
                                f"query={case.query} body={str(case.body)[:300]}")
                raise

    try:
        run()
    except (AssertionError, BaseExceptionGroup):
        pass  # recorded above, with the shrunk example last
    return sent


@pytest.mark.parametrize("name", list(SERVICES))
def test_every_operation_answers_as_documented(schemas, name):
    failures: list[str] = []
    operations = [result.ok() for result in schemas[name].get_all_operations()]
    assert len(operations) >= 4, "the schema lost its operations"
    sent = sum(_fuzz(operation, failures) for operation in operations)
    assert sent >= 2 * len(operations), "some operations were never called"
    assert not failures, "\n\n".join(failures[-5:])
