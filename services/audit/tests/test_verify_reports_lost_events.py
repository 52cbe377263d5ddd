"""The checkpoint verifier passes on the service's reason when the log is invalid for a lost event,
not only for a broken chain (the service's answer stubbed; no I/O)."""

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.audit import verify
from services.audit.gaps import OVERDUE_MESSAGE
from services.audit.tests.builders import series

pytestmark = pytest.mark.unit
KEY = Ed25519PrivateKey.generate()


async def test_a_lost_event_past_the_grace_is_reported_and_fails_the_check():
    [checkpoint] = series(KEY, 3)
    lost = f"{OVERDUE_MESSAGE}（1 个）"
    answer = {"valid": False, "first_bad": None, "problems": [lost],
              "checkpoint": {"matches": True, "message": "审计日志与检查点一致"}}
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda request: httpx.Response(200, json=answer)),
                                 base_url="http://audit") as client:
        verdict = await verify.inspect([checkpoint], public_key=KEY.public_key(), client=client, token="t")
    assert verdict.code == verify.TAMPERED
    assert f"问题：{lost}" in verdict.lines
    assert not any("审计日志与检查点一致" in line for line in verdict.lines if line.startswith("问题"))
