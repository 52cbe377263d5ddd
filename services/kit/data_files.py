"""Reading the YAML files county IT edits (the service catalogue, the staff file): one way to read them
and one way to say what is wrong, naming the entry by its id rather than its position."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

# libyaml's safe loader where the wheel has it (several times faster), the pure-Python one otherwise.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
M = TypeVar("M", bound=BaseModel)


class DataFileError(Exception):
    """A data file cannot be used; the message says where and why."""


def read_yaml(path: Path, *, what: str, error: type[DataFileError]) -> Any:
    """The parsed YAML of `path`; `error` when it cannot be read or is not YAML."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except OSError as exc:
        raise error(f"cannot read the {what} {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise error(f"{path} is not YAML: {exc}") from None


def parse(raw: Any, model: type[M], *, source: str, what: str, entries: tuple[str, str, str],
          error: type[DataFileError]) -> M:
    """`model` from parsed YAML, or `error` listing each problem at the entry it concerns.

    `entries` is (list key, id key, label): ("items", "item_code", "item") reads `items.3.name` as
    `item SB-002 name`.
    """
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{_where(raw, err['loc'], entries)}: {err['msg'].removeprefix('Value error, ')}"
                    for err in exc.errors()]
        raise error(f"{source} is not a valid {what}:\n  " + "\n  ".join(problems)) from None


def _where(raw: Any, loc: tuple[Any, ...], entries: tuple[str, str, str]) -> str:
    list_key, id_key, label = entries
    if len(loc) >= 2 and loc[0] == list_key and isinstance(loc[1], int):
        try:
            who = raw[list_key][loc[1]][id_key]
        except (KeyError, IndexError, TypeError):
            who = f"#{loc[1] + 1}"
        rest = ".".join(str(p) for p in loc[2:])
        return f"{label} {who}" + (f" {rest}" if rest else "")
    return ".".join(str(p) for p in loc) or "file"
