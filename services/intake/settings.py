from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from services.intake.catalogue_file import DEFAULT_FILE
from services.kit.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    port: int = 8101
    contact_publish_interval: float = Field(default=0.2, gt=0,
                                            description="Seconds between looks for contacts to publish when idle.")
    notice_period_scan_interval: float = Field(
        default=30.0, gt=0, description="Seconds between looks for applications whose 5-day notice period passed.")
    contact_publish_batch: int = Field(default=200, ge=1, description="Contacts published per round at most.")
    catalogue_file: Path = Field(default=DEFAULT_FILE, description="The service catalogue (服务事项目录) file, YAML; "
                                 "see deploy/catalogue/README.md.")
    complaint_answer_days: int = Field(default=15, ge=1, le=60,
                                       description="Working days to answer a complaint or report, from registration.")
    # Ratings (ADR 21): SMS rating links, and the limits of the resident's status page.
    rating_link_secret: SecretStr | None = Field(
        default=None, description="Signs SMS rating links (at least 32 characters); unset, no links are issued.")
    rating_link_ttl_days: float = Field(default=7.0, gt=0, le=365, description="Days an SMS rating link stays valid.")
    rating_again_link_ttl_days: float = Field(default=7.0, gt=0, le=365, description="Days the link to rate again "
                                              "after a rectification (整改后再评价) stays valid, from the rectification.")
    status_limit_window_seconds: float = Field(default=600.0, gt=0,
                                               description="Window of the status page's request limits.")
    status_limit_per_address: int = Field(default=60, ge=1,
                                          description="Status page requests per client address and window.")
    status_limit_per_case: int = Field(default=10, ge=1, description="Status page requests per case number and window.")
    # Printed documents (受理回执 …) embed this Simplified-Chinese TrueType font; `make install` fetches it.
    font_file: Path = Field(default=Path(__file__).resolve().parents[2] / ".local" / "fonts" / "NotoSansSC-Regular.ttf",
                            description="Font the printed documents embed (INTAKE_FONT_FILE).")
