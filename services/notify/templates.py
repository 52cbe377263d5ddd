"""SMS texts residents and staff read, from the template file county IT keeps (deploy/sms/templates.yaml).

A template is data: versioned parts with named fields, signed with the township's signature. Rendering
is strict: a field the template names and the values lack is a TemplateFieldMissing, never an empty
gap; text a person typed is cleaned (services/notify/sms_text.py) before it is inserted.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.workdays import chinese_date as local_date
from services.kit import data_files
from services.notify.sms_text import billing_segments, clean, shorten

TEMPLATE_FILE = Path(__file__).resolve().parents[2] / "deploy" / "sms" / "templates.yaml"
DEFAULT_TOWNSHIP = "default"
DEFAULT_LIMIT = 40  # characters kept of a field the file gives no limit


class TemplateFileError(data_files.DataFileError):
    """The template file cannot be used; notify refuses to start with it."""


class TemplateError(Exception):
    """A message cannot be rendered; the consumer records it as failed with this reason and goes on."""


class UnknownTemplate(TemplateError):
    def __init__(self, template_code: str) -> None:
        super().__init__(f"unknown SMS template {template_code!r}")


class TemplateFieldMissing(TemplateError):
    def __init__(self, template_code: str, field: str) -> None:
        super().__init__(f"SMS template {template_code!r} needs the field {field!r}, which the event did not give")
        self.template_code, self.field = template_code, field


class UnknownLabel(TemplateError):
    def __init__(self, template_code: str, label_set: str, value: object) -> None:
        super().__init__(f"SMS template {template_code!r}: {value!r} has no label in {label_set!r}")


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    text: str
    if_: str | None = Field(default=None, alias="if")
    unless: str | None = None

    def kept(self, values: Mapping[str, object]) -> bool:
        if self.if_ is not None:
            return bool(values.get(self.if_))
        if self.unless is not None:
            return not values.get(self.unless)
        return True


class Template(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1)
    audience: Literal["resident", "staff"]
    text: list[Part | str] = Field(min_length=1)
    raw: list[str] = Field(default_factory=list, description="Fields inserted as given: made by notify, not typed.")

    def parts(self) -> list[Part]:
        return [Part(text=p) if isinstance(p, str) else p for p in self.text]


class Township(BaseModel):
    model_config = ConfigDict(extra="forbid")

    signature: str = Field(min_length=2, max_length=12, pattern=r"^[^【】\s]+$",
                           description="The SMS signature registered with the providers, without 【】.")
    centre: str = Field(min_length=1)
    address: str = Field(min_length=1)
    office_hours: str = Field(min_length=1)


class TemplateBook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(min_length=1)
    site: str = Field(pattern=r"^https?://[^\s/]+$", description="Public address links in messages start with.")
    townships: dict[str, Township]
    labels: dict[str, dict[str, str]] = Field(default_factory=dict)
    limits: dict[str, int] = Field(default_factory=dict)
    templates: dict[str, Template]
    relayed: str = Field(default="代{applicant_name}转告：", pattern=r"\{applicant_name\}",
                         description="Put before a resident's message texted to their village agent (代办员).")

    @model_validator(mode="after")
    def _complete(self) -> TemplateBook:
        if DEFAULT_TOWNSHIP not in self.townships:
            raise ValueError(f"townships needs a `{DEFAULT_TOWNSHIP}` entry")
        for code, template in self.templates.items():
            for part in template.parts():
                for _, _, spec in _fields(part.text):
                    if spec and spec not in self.labels:
                        raise ValueError(f"template {code} uses the unknown label set {spec!r}")
        return self

    def township(self, township_id: str | None) -> Township:
        return self.townships.get(township_id or DEFAULT_TOWNSHIP) or self.townships[DEFAULT_TOWNSHIP]


@dataclass(frozen=True)
class Rendered:
    """One message's text as sent, the template version it came from and what carriers bill for it."""

    text: str
    version: str  # `<file version>/<template version>`
    segments: int


def load(path: Path = TEMPLATE_FILE) -> TemplateBook:
    raw = data_files.read_yaml(path, what="SMS template file", error=TemplateFileError)
    return data_files.parse(raw, TemplateBook, source=str(path), what="SMS template file",
                            entries=("templates", "code", "template"), error=TemplateFileError)


_in_use: list[TemplateBook] = []  # the file notify started with (NOTIFY_SMS_TEXTS_FILE)


def use(templates: TemplateBook) -> None:
    _in_use[:] = [templates]


def book() -> TemplateBook:
    """The template file in use: the one notify started with, else the repository's (tests, previews).
    A change takes a restart, as with the catalogue."""
    return _in_use[0] if _in_use else _default()


@cache
def _default() -> TemplateBook:
    return load(TEMPLATE_FILE)



def compose(template_code: str, params: Mapping[str, object], *, township_id: str | None,
            templates: TemplateBook | None = None, relayed_for: str | None = None) -> Rendered:
    """The signed text of one message; TemplateError when it cannot be made. `relayed_for`: the resident's
    name when the message goes to their village agent, who is told for whom it is."""
    tb = templates or book()
    template, values = _values(tb, template_code, params, township_id)
    formatter = _StrictFormatter(template_code, tb.labels)
    body = "".join(formatter.vformat(part.text, (), values) for part in template.parts() if part.kept(values))
    if relayed_for is not None:
        body = formatter.vformat(tb.relayed, (), {"applicant_name": _typed("applicant_name", relayed_for, tb)}) + body
    text = f"【{tb.township(township_id).signature}】{body}"
    return Rendered(text=text, version=f"{tb.version}/{template.version}", segments=billing_segments(text))


def shown_values(template_code: str, params: Mapping[str, object], *, township_id: str | None,
                 templates: TemplateBook | None = None) -> dict[str, str]:
    """Every value as the text shows it (cleaned, cut, dates and labelled codes in words), for a provider
    that fills its own pre-registered template with them instead of taking our text."""
    tb = templates or book()
    template, values = _values(tb, template_code, params, township_id)
    label_sets = {name: spec for part in template.parts() for name, _, spec in _fields(part.text) if spec}
    shown: dict[str, str] = {}
    for name, value in values.items():
        if name in label_sets:
            shown[name] = tb.labels[label_sets[name]].get(str(value), str(value))
        elif isinstance(value, bool):
            shown[name] = "是" if value else "否"
        else:
            shown[name] = "" if value is None else str(value)
    return shown


def _values(tb: TemplateBook, template_code: str, params: Mapping[str, object],
            township_id: str | None) -> tuple[Template, dict[str, object]]:
    try:
        template = tb.templates[template_code]
    except KeyError:
        raise UnknownTemplate(template_code) from None
    return template, {"site": tb.site, **tb.township(township_id).model_dump(exclude={"signature"}),
                      **{k: v if k in template.raw else _typed(k, v, tb) for k, v in params.items()}}


def render(template_code: str, params: Mapping[str, object], *, township_id: str | None = None) -> str:
    """The text alone (tests, previews)."""
    return compose(template_code, params, township_id=township_id).text


def lateness(late: timedelta) -> str:
    """`不足1小时`, `5小时`, `2天`, `2天3小时`."""
    hours = int(max(late, timedelta(0)).total_seconds() // 3600)
    days, hours = divmod(hours, 24)
    if not days:
        return f"{hours}小时" if hours else "不足1小时"
    return f"{days}天{hours}小时" if hours else f"{days}天"


def _typed(field: str, value: object, tb: TemplateBook) -> object:
    """A value as the text shows it; every piece of text is cleaned and cut to the field's limit."""
    limit = tb.limits.get(field, DEFAULT_LIMIT)
    match value:
        case bool() | int() | None:
            return value
        case datetime():
            return local_date(value)
        case timedelta():
            return lateness(value)
        case str():
            return shorten(clean(value), limit)
        case Sequence():
            return shorten("、".join(filter(None, (clean(str(v)) for v in value))), limit)
    return shorten(clean(str(value)), limit)


def _fields(text: str) -> list[tuple[str, str, str]]:
    return [(name, name, spec or "") for _, name, spec, _ in string.Formatter().parse(text) if name is not None]


class _StrictFormatter(string.Formatter):
    def __init__(self, template_code: str, labels: Mapping[str, Mapping[str, str]]) -> None:
        self._code, self._labels = template_code, labels

    def get_value(self, key: int | str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        if not isinstance(key, str) or key not in kwargs:
            raise TemplateFieldMissing(self._code, str(key))
        return kwargs[key]

    def format_field(self, value: Any, format_spec: str) -> str:
        if not format_spec:
            return "" if value is None else str(value)
        try:
            return self._labels[format_spec][str(value)]
        except KeyError:
            raise UnknownLabel(self._code, format_spec, value) from None


if __name__ == "__main__":  # county IT checks an edited file: python -m services.notify.templates [FILE]
    import sys

    checked = load(Path(sys.argv[1]) if len(sys.argv) > 1 else TEMPLATE_FILE)
    print(f"{len(checked.templates)} templates, {len(checked.townships)} townships, version {checked.version}: ok")
