from pydantic_settings import SettingsConfigDict

from services.kit.settings import ServiceSettings


class AuditSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AUDIT_", extra="ignore")

    port: int = 8104
    integrity_chunk: int = 2000  # records read per round trip while verifying the chain
