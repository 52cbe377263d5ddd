from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from services.kit.settings import ServiceSettings


class AuditSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AUDIT_", extra="ignore")

    port: int = 8104
    integrity_chunk: int = 2000  # records read per round trip while verifying the chain
    checkpoint_seconds: float = Field(default=60.0, gt=0)  # AUDIT_CHECKPOINT_SECONDS
    # AUDIT_CHAIN_CHECK_SECONDS: one chunk (integrity_chunk records) of the periodic chain check per period
    chain_check_seconds: float = Field(default=10.0, gt=0)
    # AUDIT_SIGNING_KEY_FILE: PEM Ed25519 private key; unset, a development key under .local/ is used
    signing_key_file: str | None = None
    # AUDIT_RETIRED_PUBLIC_KEYS_FILE: PEM bundle of the public keys of earlier signing keys (rotation)
    retired_public_keys_file: str | None = None
    # The role the service runs as (may only read and append the log); DATABASE_URL is the owner,
    # used for migrations and grants. Unset: a development role is created, with AUDIT_DB_PASSWORD
    # or a password generated into .local/.
    runtime_database_url: str | None = Field(default=None, validation_alias=AliasChoices("AUDIT_DATABASE_URL"))
    db_password: SecretStr | None = None  # AUDIT_DB_PASSWORD
    # AUDIT_GAP_GRACE_SECONDS: how long a missing stream_version may be late (another topic, a slow
    # partition) before it counts as lost and makes the log invalid
    gap_grace_seconds: float = Field(default=3600.0, ge=0)

    # The inspectors' read model and its anomaly rules (ADR 33).
    read_model_chunk: int = Field(default=2000, gt=0)  # AUDIT_READ_MODEL_CHUNK: records folded per catch-up step
    follow_up_working_days: int = Field(default=1, ge=1, le=5)  # AUDIT_FOLLOW_UP_WORKING_DAYS: a bad rating's 回访 limit
    rectification_working_days: int = Field(default=5, ge=5, le=15)  # AUDIT_RECTIFICATION_WORKING_DAYS: its 整改 limit
    resident_told_hours: int = Field(default=24, ge=1)  # AUDIT_RESIDENT_TOLD_HOURS: to text the resident a result
    # AUDIT_TARGET_WAIT_MINUTES: the expected wait the hall figures' staffing suggestion keeps under
    target_wait_minutes: float = Field(default=15.0, gt=0, le=240)
    # AUDIT_FONT_FILE: the Simplified-Chinese font the case dossier (PDF) embeds; `make install` fetches it
    font_file: Path = Path(__file__).resolve().parents[2] / ".local" / "fonts" / "NotoSansSC-Regular.ttf"
