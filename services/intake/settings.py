from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.kit.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    port: int = 8101
    contact_publish_interval: float = Field(default=0.2, gt=0,
                                            description="Seconds between looks for contacts to publish when idle.")
    contact_publish_batch: int = Field(default=200, ge=1, description="Contacts published per round at most.")
    complaint_answer_days: int = Field(default=15, ge=1, le=60,
                                       description="Working days to answer a complaint or report, from registration.")
