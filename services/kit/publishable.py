"""What the broker and the databases accept: checked before an event enters the outbox, because
a row the relay cannot publish would otherwise sit there for ever (docs/architecture.md, "State and delivery")."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic_core import PydanticSerializationError

from contracts.envelope import Envelope
from contracts.errors import DomainError

# Kafka's default max.message.bytes is 1 MiB; an event is a few KiB. A quarter of the broker's
# limit leaves room for headers, a DLQ copy with its reason headers, and a broker configured lower.
DEFAULT_MAX_EVENT_BYTES = 256 * 1024

# NUL is refused by PostgreSQL text (and by jsonb as \u0000); a lone surrogate cannot be encoded as UTF-8.
_UNACCEPTED = re.compile("[\x00\ud800-\udfff]")


class EventTooLarge(DomainError):
    status, code, message = 422, "EVENT_TOO_LARGE", "请求内容过大，无法保存，请精简后重试"


class TextNotAccepted(DomainError):
    status, code, message = 422, "TEXT_NOT_ACCEPTED", "内容中含有无法保存的字符（如空字符或无效的 Unicode 字符），请修改后重试"


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key, path + ".<key>")
            yield from _strings(item, f"{path}.{key}" if isinstance(key, str) else path)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}[{i}]")


def unaccepted_text_at(value: Any) -> str | None:
    """The path of the first string holding NUL or a lone surrogate, or None."""
    return next((path or "(root)" for path, text in _strings(value) if _UNACCEPTED.search(text)), None)


def publishable_body(envelope: Envelope, *, max_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> str:
    """The JSON text to store and publish, or a 422 domain error naming the field (never its value).

    Serialising first is the cheap check: a NUL comes out escaped as \\u0000 and a lone surrogate
    cannot be serialised at all. Only then is the envelope walked, to name the field (a text that
    merely spells a backslash-u0000 is found clean by the walk and goes through).
    """
    try:
        body = envelope.model_dump_json()
    except PydanticSerializationError as exc:
        where = unaccepted_text_at(envelope.model_dump(mode="python"))
        raise TextNotAccepted(details={"field": where.lstrip(".") if where else "(unknown)"}) from exc
    if "\\u0000" in body and (where := unaccepted_text_at(envelope.model_dump(mode="python"))):
        raise TextNotAccepted(details={"field": where.lstrip(".")})
    size = len(body.encode("utf-8"))
    if size > max_bytes:
        raise EventTooLarge(details={"bytes": size, "limit": max_bytes})
    return body
