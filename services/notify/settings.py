from datetime import time
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.kit.settings import ServiceSettings
from services.notify.providers.config import ProviderName, ProviderSettings
from services.notify.templates import TEMPLATE_FILE


class NotifySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFY_", extra="ignore")

    port: int = 8103
    sms_provider: ProviderName = Field(default="dev", description="SMS provider; `dev` records instead of sending.")
    sms_secondary: ProviderName | None = Field(default=None, description="Provider a technical failure fails over to.")
    # Credentials, endpoints, the template mapping and the receipts secret (NOTIFY_ALIBABA_*, NOTIFY_TENCENT_*, …).
    providers: ProviderSettings = Field(default_factory=ProviderSettings)
    send_interval: float = Field(default=0.5, gt=0, description="Seconds between polls for queued messages.")
    send_batch: int = Field(default=10, ge=1, description="Messages claimed per poll.")
    send_timeout: float = Field(default=10.0, gt=0, description="Seconds one provider call may take.")
    send_max_attempts: int = Field(default=5, ge=1, description="Provider attempts before a message is `failed`.")
    send_backoff_first: float = Field(default=5.0, ge=0, description="Seconds before the first retry; doubles each time.")
    send_backoff_max: float = Field(default=600.0, ge=0, description="Upper bound of the retry delay.")
    # Every consumer group starts at the earliest offset (nothing is missed after a new deploy), so
    # this bound is what keeps a fresh group, or a long outage, from texting past residents again.
    max_event_age_hours: float = Field(default=48.0, gt=0, description="No SMS about an event older than this.")

    # Sending rules (services/notify/send_rules.py, ADR 30). Per number, counted over provider calls,
    # inside the providers' own limits (carriers: about 10 notification SMS a day to one number).
    limit_per_minute: int = Field(default=2, ge=1, description="SMS to one number in any minute.")
    limit_per_hour: int = Field(default=5, ge=1, description="SMS to one number in any hour.")
    limit_per_day: int = Field(default=10, ge=1, description="SMS to one number in any 24 hours.")
    same_text_hours: float = Field(default=24.0, ge=0, description="The same text to one number at most once in this.")
    merge_window_seconds: float = Field(
        default=60.0, ge=0, description="Messages to one number within this of the first go out as one SMS.")
    merged_max_chars: int = Field(default=500, ge=70, description="Longest merged SMS; the rest goes in the next.")
    quiet_start: time = Field(default=time(21, 30), description="Quiet hours start (Asia/Shanghai); not for urgent ones.")
    quiet_end: time = Field(default=time(8, 0), description="Quiet hours end; equal to the start: no quiet hours.")
    sms_texts_file: Path = Field(default=TEMPLATE_FILE, description="The SMS wording file (短信模板), YAML; "
                                 "see docs/adr/0029-sms-templates.md.")
