"""The partner examples (examples/partner) run as a partner would run them, on the local Kafka with the
example partner's own credentials: they receive a case's events and are refused the contact topic."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest

from contracts.envelope import Actor, new_event_id
from contracts.events import CaseRated, CaseRatedPayload
from contracts.topics import CASE_TOPICS, INTAKE_CONTACTS
from deploy.kafka_acls import DEMO_PARTNER
from services.kit.testing import publish_events, start_group_at_end

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "partner"


@pytest.fixture(scope="module")
def partner_env(infra) -> dict[str, str]:
    if infra.kafka_user_env is None:
        pytest.skip("the example partner is a user of the local broker; this Kafka is another")
    base = {k: v for k, v in os.environ.items() if not k.startswith("KAFKA_")}  # not the suite's admin
    return {**base, **infra.kafka_user_env(DEMO_PARTNER), "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap}


def _rating(case_id, version: int, score: int) -> CaseRated:
    return CaseRated(event_id=new_event_id(), schema_version="1.0", occurred_at=datetime.now(UTC), source="intake",
                     case_id=case_id, stream_version=version, township_id="qingshui",
                     actor=Actor(kind="resident", id="r"), correlation_id=case_id,
                     payload=CaseRatedPayload(score=score, comment="", bad_rating=score <= 2))


async def _lines_until(command: list[str], env: dict[str, str], stream: str, done: Callable[[list[str]], bool],
                       timeout: float = 60.0) -> tuple[list[str], int | None]:
    """Runs the command and collects the lines of its `stream` until `done(lines)` or it exits; then
    stops it. Returns the lines and its exit code if it exited by itself."""
    proc = await asyncio.create_subprocess_exec(*command, env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE, start_new_session=True)
    reader = proc.stdout if stream == "stdout" else proc.stderr
    assert reader is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        while not done(lines):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{command[0]}: not done after {timeout}s; {stream} so far:\n" + "\n".join(lines))
            raw = await asyncio.wait_for(reader.readline(), remaining)
            if not raw:  # exited
                break
            lines.append(raw.decode(errors="replace").rstrip("\n"))
        return lines, proc.returncode if proc.returncode is not None else await _exit_code_if_exited(proc)
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            await proc.wait()


async def _exit_code_if_exited(proc: asyncio.subprocess.Process) -> int | None:
    with contextlib.suppress(TimeoutError):
        return await asyncio.wait_for(proc.wait(), 5)
    return None


async def _case_on_the_topics(infra, group: str) -> tuple[CaseRated, CaseRated]:
    """Places the partner's group at the end (as admin), then publishes a case's two events, the first twice."""
    await start_group_at_end(infra.kafka_bootstrap, group, list(CASE_TOPICS))
    case_id = uuid4()
    first, second = _rating(case_id, 1, 5), _rating(case_id, 2, 4)
    await publish_events(infra.kafka_bootstrap, first, first, second)  # a redelivery of the first
    return first, second


async def test_the_python_subscriber_receives_a_case_once_per_event(infra, partner_env):
    group = f"{DEMO_PARTNER}.example-{uuid4().hex[:6]}"
    first, second = await _case_on_the_topics(infra, group)
    lines, _ = await _lines_until([sys.executable, str(EXAMPLES / "subscriber.py"), "--group", group], partner_env,
                                  "stdout", lambda seen: any(str(second.event_id) in line for line in seen))
    ours = [line for line in lines if str(first.case_id) in line]
    assert [str(first.event_id) in line for line in ours] == [True, False]  # the redelivery is dropped
    assert "intake#2 CaseRated" in ours[1]


async def test_the_python_subscriber_is_refused_the_contact_topic(partner_env):
    lines, code = await _lines_until([sys.executable, str(EXAMPLES / "subscriber.py"), INTAKE_CONTACTS], partner_env,
                                     "stderr", lambda seen: any(line.startswith("error:") for line in seen))
    assert any("TopicAuthorizationFailed" in line for line in lines)
    assert code == 1


@pytest.fixture(scope="module")
def kcat() -> str:
    found = shutil.which("kcat")
    assert found, "kcat is missing: `make install` installs it (apt-get install kcat)"
    return found


async def test_kcat_receives_a_case(infra, partner_env, kcat):
    group = f"{DEMO_PARTNER}.kcat-{uuid4().hex[:6]}"
    first, second = await _case_on_the_topics(infra, group)
    lines, _ = await _lines_until([str(EXAMPLES / "kcat.sh")], {**partner_env, "KAFKA_GROUP": group}, "stdout",
                                  lambda seen: any(str(second.event_id) in line for line in seen))
    ours = [line for line in lines if f"key={first.case_id}" in line]
    assert any(str(first.event_id) in line and "event_type=CaseRated" in line for line in ours)


async def test_kcat_is_refused_the_contact_topic(partner_env, kcat):
    lines, _ = await _lines_until([str(EXAMPLES / "kcat.sh"), INTAKE_CONTACTS],
                                  {**partner_env, "KAFKA_GROUP": f"{DEMO_PARTNER}.kcat-{uuid4().hex[:6]}"}, "stderr",
                                  lambda seen: any("Topic authorization failed" in line for line in seen))
    assert any(INTAKE_CONTACTS in line and "Topic authorization failed" in line for line in lines)
