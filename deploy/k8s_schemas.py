"""Turns CustomResourceDefinitions into the JSON Schemas kubeconform reads, so the manifests in
deploy/k8s validate offline:

    python -m deploy.k8s_schemas CRD.yaml... [--kinds Kafka,KafkaTopic] [--out deploy/k8s/schemas]

writes `<out>/<group>/<kind>_<version>.json` (lower-case kind) for every served version. Strict,
like the core schemas kubeconform uses with -strict: an object that lists its properties admits
no others, unless the CRD keeps unknown fields there (x-kubernetes-preserve-unknown-fields).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml

SCHEMAS_DIR = Path(__file__).resolve().parent / "k8s" / "schemas"


def strict(node: Any) -> Any:
    """A copy of an openAPIV3Schema node in which listed properties are the only ones allowed."""
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: strict(value) for key, value in node.items()}
    if "properties" in out and "additionalProperties" not in out and not out.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


def schemas_of(crd: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """File name (`<group>/<kind>_<version>.json`) -> JSON Schema, for each served version of a CRD."""
    group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
    out = {}
    for version in crd["spec"]["versions"]:
        if not version.get("served", True):
            continue
        schema = strict(version["schema"]["openAPIV3Schema"])
        schema["$schema"] = "http://json-schema.org/draft-04/schema#"  # OpenAPI v3 schemas are draft 4 at heart
        out[f"{group}/{kind.lower()}_{version['name']}.json"] = schema
    return out


def convert(paths: list[Path], out_dir: Path, kinds: set[str] | None = None) -> list[Path]:
    written = []
    for path in paths:
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            if kinds and doc["spec"]["names"]["kind"] not in kinds:
                continue
            for name, schema in schemas_of(doc).items():
                target = out_dir / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(json.dumps(schema, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
                written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="CRD YAML -> strict JSON Schemas for kubeconform.")
    parser.add_argument("crds", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=SCHEMAS_DIR)
    parser.add_argument("--kinds", help="comma-separated kinds to keep (default: all)")
    args = parser.parse_args(argv)
    kinds = set(args.kinds.split(",")) if args.kinds else None
    for path in convert(args.crds, args.out, kinds):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
