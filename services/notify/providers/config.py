"""How county IT configures the real providers: credentials, endpoints, and which of the provider's
pre-registered templates stands for each of ours.

Every variable has the prefix NOTIFY_. A secret is read from the variable itself or, if unset, from the
file named by the same variable with _FILE appended (a mounted secret); it is a SecretStr, never logged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.workdays import chinese_date
from services.kit.data_files import DataFileError, parse, read_yaml

ProviderName = Literal["dev", "alibaba", "tencent"]
SECRETS = ("alibaba_access_key_secret", "tencent_secret_key", "sms_receipt_secret")


class ProviderSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFY_", extra="ignore")

    alibaba_endpoint: str = Field(default="https://dysmsapi.aliyuncs.com", description="Alibaba Cloud SMS API.")
    alibaba_region: str = "cn-hangzhou"
    alibaba_access_key_id: str = ""
    alibaba_access_key_secret: SecretStr | None = None
    alibaba_sign_name: str = Field(default="", description="签名 registered at Alibaba Cloud, e.g. 清水镇便民服务中心.")
    tencent_endpoint: str = Field(default="https://sms.tencentcloudapi.com", description="Tencent Cloud SMS API.")
    tencent_region: str = "ap-guangzhou"
    tencent_secret_id: str = ""
    tencent_secret_key: SecretStr | None = None
    tencent_sdk_app_id: str = Field(default="", description="SmsSdkAppId of the SMS application, 1400…")
    tencent_sign_name: str = ""
    sms_templates_file: Path | None = Field(default=None, description="YAML: our template codes to the providers'.")
    sms_receipt_secret: SecretStr | None = Field(default=None, description="Shared secret of the receipts endpoint.")
    # A send whose answer never came is only resent once the provider says it does not have it; a
    # provider that can only show delivered messages (Tencent) is believed after this long.
    sms_unknown_settle_seconds: float = Field(default=900.0, ge=0)
    sms_http_timeout: float = Field(default=5.0, gt=0, description="Seconds one HTTP call to a provider may take.")

    @model_validator(mode="before")
    @classmethod
    def _secrets_from_files(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data
        for name in SECRETS:
            path = os.environ.get(f"NOTIFY_{name.upper()}_FILE")
            if data.get(name) is None and not os.environ.get(f"NOTIFY_{name.upper()}") and path:
                data[name] = Path(path).read_text(encoding="utf-8").strip()
        return data

    def secret(self, name: str) -> str:
        value = getattr(self, name)
        return value.get_secret_value() if value is not None else ""


class ProviderTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    template: str = Field(min_length=1, description="The provider's template code (SMS_…) or id (digits).")
    params: tuple[str, ...] = Field(default=(), description="Our parameter names, in the template's order.")


class TemplateFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alibaba: dict[str, ProviderTemplate] = {}
    tencent: dict[str, ProviderTemplate] = {}


class TemplateFileError(DataFileError):
    """The provider template file cannot be used."""


def load_templates(path: Path | None) -> TemplateFile:
    if path is None:
        return TemplateFile()
    raw = read_yaml(path, what="SMS template mapping", error=TemplateFileError)
    return parse(raw or {}, TemplateFile, source=str(path), what="SMS template mapping",
                 entries=("alibaba", "template", "template"), error=TemplateFileError)


def param_text(value: object) -> str:
    """One template parameter as the provider receives it: plain text, a date the Chinese way."""
    match value:
        case None:
            return ""
        case bool():
            return "是" if value else "否"
        case datetime():
            return chinese_date(value)
    return str(value)


def template_values(template: ProviderTemplate, params: Mapping[str, object] | None) -> list[str]:
    params = params or {}
    return [param_text(params.get(name)) for name in template.params]
