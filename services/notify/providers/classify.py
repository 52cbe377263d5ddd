"""What a provider's answer means for the message, in GOV.UK Notify's three classes of failure.

    temporary  the provider or the carrier refused for now (frequency limits, throttling): retried
               with backoff within the retry window, at the same provider
    permanent  this message can never go (a malformed or blacklisted number, a template the provider
               has not approved): recorded as failed at once, never retried
    technical  our side of the connection is broken (credentials, signature, an unmapped template, the
               provider down or answering 5xx): retried, and handed to the secondary provider at once

A code missing from the table is technical: a new code is a reason to look, and trying the other
provider is the safe guess. An answer that never came (a read timeout) is none of these: the
provider may have taken the message, see `OutcomeUnknown`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FailureKind = Literal["temporary", "permanent", "technical"]

# Alibaba Cloud dysmsapi 2017-05-25 (SendSms error codes) and Tencent Cloud sms 2021-01-11 (SendStatus.Code
# and Response.Error.Code), as documented by each provider.
CODES: dict[str, dict[str, FailureKind]] = {
    "alibaba": {
        "isv.BUSINESS_LIMIT_CONTROL": "temporary",      # 业务限流: per-number minute/hour/day limits
        "isv.DAY_LIMIT_CONTROL": "temporary",            # the account's daily quota
        "isv.SMS_CONTENT_ILLEGAL": "permanent",
        "isv.MOBILE_NUMBER_ILLEGAL": "permanent",
        "isv.MOBILE_COUNT_OVER_LIMIT": "permanent",
        "isv.BLACK_KEY_CONTROL_LIMIT": "permanent",
        "isv.PARAM_LENGTH_LIMIT": "permanent",
        "isv.PARAM_NOT_SUPPORT_URL": "permanent",
        "isv.INVALID_JSON_PARAM": "permanent",
        "isv.TEMPLATE_MISSING_PARAMETERS": "permanent",
        "isv.SMS_TEMPLATE_ILLEGAL": "permanent",         # template not approved or not ours
        "isv.SMS_SIGNATURE_ILLEGAL": "technical",       # the sign name is configuration
        "isv.SMS_SIGN_ILLEGAL": "technical",
        "isv.AMOUNT_NOT_ENOUGH": "technical",            # account out of credit: the other provider can send
        "isv.OUT_OF_SERVICE": "technical",
        "isv.ACCOUNT_NOT_EXISTS": "technical",
        "isv.ACCOUNT_ABNORMAL": "technical",
        "isp.SYSTEM_ERROR": "technical",
        "isp.RAM_PERMISSION_DENY": "technical",
        "SignatureDoesNotMatch": "technical",
        "InvalidAccessKeyId.NotFound": "technical",
        "InvalidTimeStamp.Expired": "technical",
        "SignatureNonceUsed": "technical",
        "Throttling.User": "temporary",
        # 状态报告 (delivery receipts)
        "MK:0000": "temporary", "MK:0001": "permanent", "MK:0005": "permanent", "IC:0001": "permanent",
        "IC:0015": "permanent", "IC:0055": "permanent", "IC:0151": "temporary", "DB:0141": "permanent",
    },
    "tencent": {
        "LimitExceeded.PhoneNumberDailyLimit": "temporary",
        "LimitExceeded.PhoneNumberOneHourLimit": "temporary",
        "LimitExceeded.PhoneNumberThirtySecondLimit": "temporary",
        "LimitExceeded.PhoneNumberSameContentDailyLimit": "temporary",
        "LimitExceeded.DailyLimit": "temporary",
        "LimitExceeded.DeliveryFrequencyLimit": "temporary",
        "RequestLimitExceeded": "temporary",
        "InvalidParameterValue.IncorrectPhoneNumber": "permanent",
        "FailedOperation.PhoneNumberInBlacklist": "permanent",
        "FailedOperation.TemplateIncorrectOrUnapproved": "permanent",
        "FailedOperation.ContainSensitiveWord": "permanent",
        "FailedOperation.TemplateParamSetNotMatchApprovedTemplate": "permanent",
        "InvalidParameterValue.TemplateParameterFormatError": "permanent",
        "InvalidParameterValue.TemplateParameterLengthLimit": "permanent",
        "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter": "permanent",
        "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber": "permanent",
        "FailedOperation.SignatureIncorrectOrUnapproved": "technical",
        "FailedOperation.InsufficientBalanceInSmsPackage": "technical",
        "FailedOperation.FailResolvePacket": "technical",
        "UnauthorizedOperation.SmsSdkAppIdVerifyFail": "technical",
        "AuthFailure.SignatureFailure": "technical",
        "AuthFailure.SecretIdNotFound": "technical",
        "AuthFailure.SignatureExpire": "technical",
        "InternalError.Timeout": "technical",
        "InternalError.SendAndRecvFail": "technical",
        "InternalError.OtherError": "technical",
        # 状态报告 (delivery receipts): the errmsg of a FAIL report
        "MN:0001": "permanent", "MN:0017": "permanent", "MK:0008": "permanent", "DB:0141": "permanent",
        "UNDELIV": "temporary", "EXPIRED": "temporary",
    },
}


def classify(provider: str, code: str) -> FailureKind:
    return CODES.get(provider, {}).get(code, "technical")


@dataclass
class ProviderError(Exception):
    """The provider refused, or could not be reached, and surely did not take the message."""

    provider: str
    code: str
    kind: FailureKind
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.provider} {self.kind} {self.code}: {self.detail}"[:500]


def refused(provider: str, code: str, detail: str = "") -> ProviderError:
    return ProviderError(provider, code, classify(provider, code), detail)


@dataclass
class OutcomeUnknown(Exception):
    """The request went out and no answer came back: the provider may have taken the message."""

    provider: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.provider} outcome unknown: {self.detail}"[:500]


class LookupUnsure(Exception):
    """The provider cannot yet tell whether it took a message; ask again later."""


class Accepted(str):
    """The provider's id of a message it took, and which provider that was (a failover may have used the secondary)."""

    provider: str

    def __new__(cls, provider_message_id: str, *, provider: str) -> Accepted:
        accepted = super().__new__(cls, provider_message_id)
        accepted.provider = provider
        return accepted
