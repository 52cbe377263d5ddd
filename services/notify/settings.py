from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.kit.settings import ServiceSettings
from services.notify.templates import TEMPLATE_FILE


class NotifySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFY_", extra="ignore")

    port: int = 8103
    sms_provider: Literal["dev"] = Field(default="dev", description="SMS provider; `dev` records instead of sending.")
    send_interval: float = Field(default=0.5, gt=0, description="Seconds between polls for queued messages.")
    send_batch: int = Field(default=10, ge=1, description="Messages claimed per poll.")
    send_timeout: float = Field(default=10.0, gt=0, description="Seconds one provider call may take.")
    send_max_attempts: int = Field(default=5, ge=1, description="Provider attempts before a message is `failed`.")
    send_backoff_first: float = Field(default=5.0, ge=0, description="Seconds before the first retry; doubles each time.")
    send_backoff_max: float = Field(default=600.0, ge=0, description="Upper bound of the retry delay.")
    # Every consumer group starts at the earliest offset (nothing is missed after a new deploy), so
    # this bound is what keeps a fresh group, or a long outage, from texting past residents again.
    max_event_age_hours: float = Field(default=48.0, gt=0, description="No SMS about an event older than this.")
    sms_texts_file: Path = Field(default=TEMPLATE_FILE, description="The SMS wording file (短信模板), YAML; "
                                 "see docs/adr/0029-sms-templates.md.")
