from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from services.kit.settings import ServiceSettings
from services.routing.staff import DutyHours, parse_duty_hours
from services.routing.staff_file import DEFAULT_FILE as DEFAULT_STAFF_FILE


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

    # Who is there (services/routing/staff*.py): the staff seed file, duty hours, the absence scan, the contact relay.
    staff_file: Path = Field(default=DEFAULT_STAFF_FILE, description="Staff seed file loaded at start (deploy/staff/).")
    duty_hours: str = Field(default="08:30-12:00,14:00-17:30", description="Duty periods of a duty day, Asia/Shanghai.")
    duty_hours_by_township: dict[str, str] = Field(default_factory=dict,
                                                   description="Township id -> its duty periods, where not the default.")
    absence_scan_seconds: float = Field(default=60.0, gt=0, description="Seconds between two absence scans.")
    absence_grace_minutes: int = Field(default=15, ge=0, le=240,
                                       description="Minutes into a duty period, or past a return time, before an absence.")
    held_take_batch: int = Field(default=20, ge=1, le=500, description="Held cases a staff member back at the post takes.")
    staff_contact_publish_interval: float = Field(default=1.0, gt=0, description="Seconds between contact relay rounds.")
    staff_contact_publish_batch: int = Field(default=100, ge=1, le=1000)

    @field_validator("duty_hours")
    @classmethod
    def _duty_hours(cls, value: str) -> str:
        parse_duty_hours(value)
        return value

    @field_validator("duty_hours_by_township")
    @classmethod
    def _duty_hours_by_township(cls, value: dict[str, str]) -> dict[str, str]:
        for hours in value.values():
            parse_duty_hours(hours)
        return value

    def hours_of(self, township_id: str) -> DutyHours:
        return parse_duty_hours(self.duty_hours_by_township.get(township_id, self.duty_hours))

    # The bad-rating loop (follow_up.py): working days for the visit (回访) and the rectification (整改), by county rule.
    follow_up_visit_days: int = Field(default=1, ge=1, le=5, description="Working days from a bad rating to the "
                                      "verification visit (回访核实); local rules range from 1 to 5.")
    follow_up_rectification_days: int = Field(default=5, ge=5, le=15, description="Working days from a bad rating "
                                              "to the rectification (整改); local rules range from 5 to 15.")
