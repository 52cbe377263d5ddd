"""Reading the committed deployment files for the tests."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from deploy.k8s_validate import K8S_DIR, manifests

COMPOSE_DIR = K8S_DIR.parent / "compose"
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: the files are parsed often


@functools.cache
def k8s_resources() -> tuple[dict[str, Any], ...]:
    """Every resource of every manifest under deploy/k8s, with the file it came from in `_file`."""
    out = []
    for path in manifests():
        for doc in yaml.load_all(path.read_text(encoding="utf-8"), Loader=Loader):
            if doc:
                out.append({**doc, "_file": path})
    return tuple(out)


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [r for r in k8s_resources() if r["kind"] == kind]


def named(kind: str, name: str) -> dict[str, Any]:
    [resource] = [r for r in of_kind(kind) if r["metadata"]["name"] == name]
    return resource


def compose() -> dict[str, Any]:
    return load(COMPOSE_DIR / "compose.yaml")


def load(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)
