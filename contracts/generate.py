"""Write the JSON Schema of every event into contracts/schemas/ (run: python -m contracts.generate)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from contracts.envelope import Envelope
from contracts.events import EVENT_TYPES, event_type_name

SCHEMA_DIR = Path(__file__).parent / "schemas"


def schema_file(cls: type[Envelope]) -> Path:
    return SCHEMA_DIR / f"{cls.TOPIC}.json"


def render(cls: type[Envelope]) -> str:
    schema = cls.model_json_schema(mode="serialization")
    schema["$id"] = f"https://bianmin.example/contracts/{cls.TOPIC}.json"
    schema["title"] = event_type_name(cls)
    schema["x-topic"] = cls.TOPIC
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main() -> int:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for cls in EVENT_TYPES:
        schema_file(cls).write_text(render(cls), encoding="utf-8")
        print(f"wrote {schema_file(cls)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
