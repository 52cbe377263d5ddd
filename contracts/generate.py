"""Write the JSON Schema of every event into contracts/schemas/ (run: python -m contracts.generate)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from contracts.envelope import Envelope
from contracts.events import EVENT_TYPES, event_type_name

SCHEMA_DIR = Path(__file__).parent / "schemas"


def schema_name(cls: type[Envelope]) -> str:
    """`CaseSubmitted` 1.x -> `case-submitted.v1`: one schema per event type and major version."""
    kebab = re.sub(r"(?<!^)(?=[A-Z])", "-", event_type_name(cls)).lower()
    return f"{kebab}.v{cls.SCHEMA_VERSION.split('.')[0]}"


def schema_file(cls: type[Envelope]) -> Path:
    return SCHEMA_DIR / f"{schema_name(cls)}.json"


def render(cls: type[Envelope]) -> str:
    schema = cls.model_json_schema(mode="serialization")
    schema["$id"] = f"https://bianmin.example/contracts/{schema_name(cls)}.json"
    schema["title"] = event_type_name(cls)
    schema["x-topic"] = cls.TOPIC
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main() -> int:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for stale in set(SCHEMA_DIR.glob("*.json")) - {schema_file(cls) for cls in EVENT_TYPES}:
        stale.unlink()
        print(f"removed {stale}")
    for cls in EVENT_TYPES:
        schema_file(cls).write_text(render(cls), encoding="utf-8")
        print(f"wrote {schema_file(cls)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
