"""Request signing against the providers' own published examples, byte for byte, and the failure classes."""

from __future__ import annotations

from uuid import uuid4

import pytest

from services.notify import receipts
from services.notify.providers.classify import CODES, Accepted, ProviderError, classify
from services.notify.providers.config import ProviderTemplate, param_text, template_values
from services.notify.providers.failover import FailoverProvider
from services.notify.providers.signing import alibaba_signature, alibaba_string_to_sign, percent_encode, tc3_authorization

# Alibaba Cloud, "Request signatures" (RPC, signature version 1.0): DescribeRegions, AccessKey secret testsecret.
ALIBABA_EXAMPLE = {"TimeStamp": "2016-02-23T12:46:24Z", "Format": "XML", "AccessKeyId": "testid",
                   "Action": "DescribeRegions", "SignatureMethod": "HMAC-SHA1",
                   "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "Version": "2014-05-26",
                   "SignatureVersion": "1.0"}
ALIBABA_STRING_TO_SIGN = (
    "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1"
    "%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0"
    "%26TimeStamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26")

# Tencent Cloud API 3.0, "Signature v3": DescribeInstances of cvm at 1551113065, the documented example key.
TENCENT_PAYLOAD = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
TENCENT_AUTHORIZATION = (
    "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, "
    "SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168")


def test_alibaba_rpc_signature_reproduces_the_published_example():
    assert alibaba_string_to_sign("GET", ALIBABA_EXAMPLE) == ALIBABA_STRING_TO_SIGN
    assert alibaba_signature("GET", ALIBABA_EXAMPLE, "testsecret") == "CT9X0VtwR86fNWSnsc6v8YGOjuE="


def test_alibaba_percent_encoding_is_rfc3986():
    assert percent_encode("a b*c~d/清") == "a%20b%2Ac~d%2F%E6%B8%85"


def test_tencent_tc3_reproduces_the_published_example():
    assert tc3_authorization(secret_id="AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
                             secret_key="Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", service="cvm",
                             host="cvm.tencentcloudapi.com", payload=TENCENT_PAYLOAD,
                             timestamp=1551113065) == TENCENT_AUTHORIZATION


def test_tencent_signing_the_action_header_changes_the_signature():
    args = {"secret_id": "id", "secret_key": "k", "service": "sms", "host": "sms.tencentcloudapi.com",
            "payload": b"{}", "timestamp": 1551113065}
    signed = tc3_authorization(**args, action="SendSms")
    assert "SignedHeaders=content-type;host;x-tc-action," in signed and signed != tc3_authorization(**args)


@pytest.mark.parametrize(("provider", "code", "kind"), [
    ("alibaba", "isv.BUSINESS_LIMIT_CONTROL", "temporary"),
    ("alibaba", "isv.MOBILE_NUMBER_ILLEGAL", "permanent"),
    ("alibaba", "isv.SMS_TEMPLATE_ILLEGAL", "permanent"),
    ("alibaba", "SignatureDoesNotMatch", "technical"),
    ("tencent", "LimitExceeded.PhoneNumberDailyLimit", "temporary"),
    ("tencent", "InvalidParameterValue.IncorrectPhoneNumber", "permanent"),
    ("tencent", "FailedOperation.PhoneNumberInBlacklist", "permanent"),
    ("tencent", "AuthFailure.SignatureFailure", "technical"),
    ("tencent", "SomethingNew.NeverSeen", "technical"),
    ("nobody", "isv.MOBILE_NUMBER_ILLEGAL", "technical"),
])
def test_codes_are_classed_as_documented(provider, code, kind):
    assert classify(provider, code) == kind


def test_every_class_is_present_for_each_provider():
    for codes in CODES.values():
        assert set(codes.values()) == {"temporary", "permanent", "technical"}


def test_template_values_follow_the_mapping_order_as_text():
    template = ProviderTemplate(template="SMS_1", params=("case_no", "urgent", "missing"))
    assert template_values(template, {"urgent": True, "case_no": "QS-1", "other": "x"}) == ["QS-1", "是", ""]
    assert param_text(None) == "" and param_text(3) == "3"


def test_receipts_name_their_message_by_our_id_or_the_providers():
    ours = uuid4()
    assert receipts.parse("alibaba", {"out_id": str(ours), "biz_id": "9^0", "success": True, "err_code": "DELIVERED"}) \
        == receipts.Receipt(ours, "9^0", True, "DELIVERED")
    assert receipts.parse("tencent", {"sid": "2433:1", "report_status": "FAIL", "errmsg": "MN:0001",
                                      "ext": {"SessionContext": str(ours)}}) == receipts.Receipt(ours, "2433:1", False,
                                                                                                 "MN:0001")
    assert receipts.parse("alibaba", {"out_id": "not-a-uuid", "success": True}) is None
    assert receipts.parse("tencent", {"report_status": "SUCCESS"}) is None


class _Fake:
    def __init__(self, name: str, error: ProviderError | None = None) -> None:
        self.name, self.error, self.calls = name, error, 0

    async def send(self, **_: object) -> str:
        self.calls += 1
        if self.error:
            raise self.error
        return f"{self.name}-id"


async def test_a_technical_failure_fails_over_and_says_which_provider_sent():
    primary, secondary = _Fake("alibaba", ProviderError("alibaba", "HTTP_503", "technical")), _Fake("tencent")
    result = await FailoverProvider(primary, secondary).send(message_id=uuid4(), phone="+8613800138000", text="t")
    assert isinstance(result, Accepted) and result.provider == "tencent" and result == "tencent-id"


@pytest.mark.parametrize("kind", ["temporary", "permanent"])
async def test_other_failures_stay_with_the_primary(kind):
    primary, secondary = _Fake("alibaba", ProviderError("alibaba", "X", kind)), _Fake("tencent")
    with pytest.raises(ProviderError):
        await FailoverProvider(primary, secondary).send(message_id=uuid4(), phone="+8613800138000", text="t")
    assert secondary.calls == 0
