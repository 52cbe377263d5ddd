from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.kit.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    port: int = 8101
    contact_publish_interval: float = Field(default=0.2, gt=0,
                                            description="Seconds between looks for contacts to publish when idle.")
    contact_publish_batch: int = Field(default=200, ge=1, description="Contacts published per round at most.")
    # Printed documents (受理回执 …) embed this Simplified-Chinese TrueType font; `make install` fetches it.
    font_file: Path = Field(default=Path(__file__).resolve().parents[2] / ".local" / "fonts" / "NotoSansSC-Regular.ttf",
                            description="Font the printed documents embed (INTAKE_FONT_FILE).")
