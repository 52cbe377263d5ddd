from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.kit.settings import ServiceSettings


class RoutingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ROUTING_", extra="ignore")

    port: int = 8102
    deadline_scan_seconds: float = Field(default=5.0, gt=0, description="Seconds between two deadline scans.")
