from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from services.kit.settings import ServiceSettings


class RoutingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ROUTING_", extra="ignore")

    port: int = 8102
    deadline_scan_seconds: float = Field(default=2.0, gt=0, description="Seconds between two scans for due timers.")
    warning_working_days: int = Field(default=1, ge=1, le=10, description="Working days left, the deadline's own "
                                      "day included, when a DeadlineWarning (黄灯) goes out.")
    warning_days_by_township: dict[str, int] = Field(
        default_factory=dict, description='Per township, instead of warning_working_days, e.g. {"qingshui": 2} '
        "(JSON in ROUTING_WARNING_DAYS_BY_TOWNSHIP).")

    @field_validator("warning_days_by_township")
    @classmethod
    def _days_in_range(cls, value: dict[str, int]) -> dict[str, int]:
        if bad := sorted(t for t, days in value.items() if not 1 <= days <= 10):
            raise ValueError(f"warning days must be 1 to 10, not for {', '.join(bad)}")
        return value
