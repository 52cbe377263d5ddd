from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.kit.settings import ServiceSettings


class AuditSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AUDIT_", extra="ignore")

    port: int = 8104
    integrity_chunk: int = 2000  # records read per round trip while verifying the chain
    checkpoint_seconds: float = Field(default=60.0, gt=0)  # AUDIT_CHECKPOINT_SECONDS
    # AUDIT_SIGNING_KEY_FILE: PEM Ed25519 private key; unset, a development key under .local/ is used
    signing_key_file: str | None = None
