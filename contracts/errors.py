"""Base of the named guard exceptions raised by domain modules; HTTP maps them to `code` + Chinese `message`."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 409
    code = "CONFLICT"
    message = "操作与办件当前状态冲突"

    def __init__(self, message: str | None = None, details: Any = None) -> None:
        super().__init__(message or self.message)
        if message:
            self.message = message
        self.details = details
