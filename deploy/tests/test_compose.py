"""deploy/compose: valid against the compose-spec schema, the four services healthy by /readyz,
Prometheus scraping each of them, and the image built as the Makefile installs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from deploy.kafka_acls import SERVICES
from deploy.tests.manifests import COMPOSE_DIR, compose, load
from services.kit.redrive import service_url

pytestmark = pytest.mark.unit

REPO = COMPOSE_DIR.parent.parent
SCHEMA = COMPOSE_DIR / "compose-spec.json"
CHECK_JSONSCHEMA = REPO / ".venv" / "bin" / "check-jsonschema"
# Written by ./make-env.sh on the server, never committed.
GENERATED = {COMPOSE_DIR / "secrets" / "audit-signing-key.pem"}


def check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CHECK_JSONSCHEMA), "--schemafile", str(SCHEMA), str(path)],
                          capture_output=True, text=True, check=False)


def test_compose_file_is_valid() -> None:
    result = check(COMPOSE_DIR / "compose.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_validation_refuses_a_misspelt_key(tmp_path: Path) -> None:
    wrong = tmp_path / "compose.yaml"
    wrong.write_text((COMPOSE_DIR / "compose.yaml").read_text(encoding="utf-8").replace("stop_grace_period:", "stop_grace:"))
    result = check(wrong)
    assert result.returncode != 0 and "stop_grace" in result.stdout


def port_of(service: str) -> int:
    return int(service_url(service).rsplit(":", 1)[1])


@pytest.mark.parametrize("service", SERVICES)
def test_service_runs_as_in_kubernetes(service: str) -> None:
    spec = compose()["services"][service]
    port = port_of(service)
    assert spec["command"] == [f"services.{service}"]
    assert spec["environment"][f"{service.upper()}_HOST"] == "0.0.0.0"
    assert spec["environment"]["KAFKA_SASL_USERNAME"] == service
    assert spec["environment"]["KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
    assert f"http://127.0.0.1:{port}/readyz" in " ".join(spec["healthcheck"]["test"])
    assert spec["ports"] == [f"${{BIANMIN_PUBLISH_ADDRESS:-127.0.0.1}}:{port}:{port}"]
    assert spec["depends_on"]["kafka-setup"] == {"condition": "service_completed_successfully"}
    assert spec["read_only"] is True and spec["user"] == "10001:10001"
    assert int(spec["stop_grace_period"].rstrip("s")) > 20  # uvicorn drains up to 20 s


def test_kafka_and_its_setup() -> None:
    services = compose()["services"]
    pom = (REPO / "deploy" / "kafka" / "pom.xml").read_text(encoding="utf-8")
    version = services["kafka"]["image"].split(":", 1)[1]
    assert f"<kafka.version>{version}</kafka.version>" in pom
    setup = " ".join(services["kafka-setup"]["command"])
    assert "python -m deploy.kafka_setup --bootstrap kafka:9092 --password-dir" in setup
    for user in ("intake", "routing", "notify", "audit", "partner-demo", "inspector"):
        assert f'> "$$dir/{user}"' in setup


def test_every_mounted_file_is_in_the_repository() -> None:
    spec = compose()
    sources = [v.split(":", 1)[0] for s in spec["services"].values() for v in s.get("volumes", []) if v.startswith(".")]
    sources += [s["file"] for s in spec["secrets"].values()]
    paths = {(COMPOSE_DIR / source).resolve() for source in sources}
    assert paths
    missing = sorted(str(p) for p in paths - GENERATED if not p.exists())
    assert not missing


def test_prometheus_scrapes_every_service() -> None:
    config = load(REPO / "deploy" / "monitoring" / "prometheus.yml")
    [job] = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    targets = {t for group in job["static_configs"] for t in group["targets"]}
    assert targets == {f"{s}:{port_of(s)}" for s in SERVICES}
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]


def test_image_is_built_as_the_makefile_installs() -> None:
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    [uv_make] = re.findall(r"^UV_VERSION := (\S+)$", makefile, re.M)
    assert f"ARG UV_VERSION={uv_make}" in dockerfile
    assert "uv sync --locked --no-dev" in dockerfile
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", dockerfile, re.M)
    assert re.search(r"^USER 10001:10001$", dockerfile, re.M)


def test_intake_reads_the_repository_calendar() -> None:
    intake = compose()["services"]["intake"]
    mounts = dict(v.split(":")[:2] for v in intake["volumes"])
    assert mounts["../calendar"] == intake["environment"]["BIANMIN_CALENDAR_DIR"]
    assert (COMPOSE_DIR / "../calendar/README.md").exists()
