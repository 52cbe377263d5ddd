"""Validates every manifest under deploy/k8s with kubeconform, strict and offline:

    python -m deploy.k8s_validate [FILE...]

Core Kubernetes schemas come from the pinned kubernetes-validate package (copied once into
.local/k8s-schemas with their references made relative, because as shipped they point at
kubernetes.io); custom resources (Strimzi, CloudNativePG, Prometheus Operator) from the schemas
committed in deploy/k8s/schemas (deploy/k8s_schemas.py makes them). A kind with no schema fails.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate

REPO = Path(__file__).resolve().parent.parent
K8S_DIR = REPO / "deploy" / "k8s"
CRD_SCHEMAS = K8S_DIR / "schemas"
KUBECONFORM = REPO / ".local" / "bin" / "kubeconform"
KUBERNETES_VERSION = "1.34.0"  # the oldest Kubernetes the manifests are meant for
KUSTOMIZATION = "kustomization.yaml"  # kustomize's own file, not a resource; checked by the tests


def manifests(root: Path = K8S_DIR) -> list[Path]:
    """Every YAML resource file under deploy/k8s, including what others add later (monitoring/ …)."""
    files = [*root.rglob("*.yaml"), *root.rglob("*.yml")]
    return sorted(p for p in files if p.name != KUSTOMIZATION and CRD_SCHEMAS not in p.parents)


def core_schemas(cache: Path = REPO / ".local" / "k8s-schemas") -> Path:
    """The package's strict schemas for KUBERNETES_VERSION, with `/api/_definitions.json` references
    made relative and `$id` dropped, so nothing is fetched; made again when the package changes."""
    package_version = importlib.metadata.version("kubernetes-validate")
    target = cache / f"v{KUBERNETES_VERSION}-standalone-strict"
    stamp = target / ".made-from"
    if stamp.exists() and stamp.read_text() == package_version:
        return target
    source = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema" / f"v{KUBERNETES_VERSION}-local-strict"
    if not source.is_dir():
        raise SystemExit(f"kubernetes-validate {package_version} has no schemas for Kubernetes {KUBERNETES_VERSION}")
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for path in source.glob("*.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        schema.pop("$id", None)
        text = json.dumps(schema).replace('"/api/_definitions.json#', '"_definitions.json#')
        (target / path.name).write_text(text, encoding="utf-8")
    stamp.write_text(package_version)
    return target


def command(files: list[Path]) -> list[str]:
    core = core_schemas()
    return [str(KUBECONFORM), "-strict", "-summary", "-output", "text",
            "-kubernetes-version", KUBERNETES_VERSION,
            "-schema-location", str(core) + "/{{ .ResourceKind }}{{ .KindSuffix }}.json",
            "-schema-location", str(CRD_SCHEMAS) + "/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json",
            *map(str, files)]


def validate(files: list[Path] | None = None) -> subprocess.CompletedProcess[str]:
    if not KUBECONFORM.exists():
        raise SystemExit(f"{KUBECONFORM.relative_to(REPO)} is missing: run `make install`")
    return subprocess.run(command(files or manifests()), capture_output=True, text=True, check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="kubeconform, strict and offline, over deploy/k8s.")
    parser.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args(argv)
    result = validate(args.files or None)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main())
