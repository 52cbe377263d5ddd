"""deploy/k8s: valid for kubeconform (strict, offline), production settings on every Deployment,
and Kafka topics and users exactly as the tables say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from contracts.topics import ALL_TOPICS, COMPACTED_TOPICS
from deploy import k8s_generate
from deploy.k8s_validate import K8S_DIR, KUSTOMIZATION, manifests, validate
from deploy.kafka_acls import ADMIN_USER, SERVICES, Acl, all_acls, users
from deploy.tests.manifests import load, named, of_kind
from services.kit import shutdown
from services.kit.topics import topic_configs

pytestmark = pytest.mark.unit

SUMMARY = re.compile(r"Summary: (\d+) resources? found in (\d+) files? - "
                     r"Valid: (\d+), Invalid: (\d+), Errors: (\d+), Skipped: (\d+)")


def summary(output: str) -> dict[str, int]:
    match = SUMMARY.search(output)
    assert match, output
    return dict(zip(("resources", "files", "valid", "invalid", "errors", "skipped"), map(int, match.groups()), strict=True))


def test_every_manifest_validates_strictly() -> None:
    result = validate()
    assert result.returncode == 0, result.stdout + result.stderr
    counts = summary(result.stdout)
    assert counts["files"] == len(manifests())
    assert counts["valid"] == counts["resources"] > 0
    assert counts["skipped"] == 0


def test_validation_refuses_unknown_fields_and_kinds(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("""\
apiVersion: v1
kind: Service
metadata: {name: s}
spec: {ports: [{port: 1}], selectr: {a: b}}
---
apiVersion: kafka.strimzi.io/v1
kind: KafkaTopic
metadata: {name: t}
spec: {partitions: 3, replicas: 3, retention: 1}
---
apiVersion: kafka.strimzi.io/v1
kind: KafkaBridge
metadata: {name: b}
spec: {replicas: 1}
""")
    result = validate([wrong])
    assert result.returncode != 0
    counts = summary(result.stdout)
    assert (counts["invalid"], counts["errors"], counts["valid"]) == (2, 1, 0), result.stdout
    assert "selectr" in result.stdout and "retention" in result.stdout
    assert "could not find schema for KafkaBridge" in result.stdout


def test_kustomization_lists_every_manifest_beside_it() -> None:
    listed = load(K8S_DIR / KUSTOMIZATION)["resources"]
    assert sorted(listed) == sorted(p.name for p in manifests() if p.parent == K8S_DIR)


def test_generated_topic_and_user_files_are_current() -> None:
    for path, text in k8s_generate.rendered().items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is out of date: run make k8s"


def test_topics_are_the_table() -> None:
    topics = of_kind("KafkaTopic")
    assert sorted(t["spec"]["topicName"] for t in topics) == sorted(ALL_TOPICS)
    for topic in topics:
        spec = topic["spec"]
        assert (spec["replicas"], spec["partitions"]) == (3, 3)
        expected = {k: int(v) for k, v in topic_configs(3).items()}
        if spec["topicName"] in COMPACTED_TOPICS:
            expected["cleanup.policy"] = "compact"
        assert spec["config"] == expected
        assert spec["config"]["min.insync.replicas"] == 2
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == k8s_generate.KAFKA_CLUSTER


def test_users_hold_exactly_the_acl_table() -> None:
    kafka_users = of_kind("KafkaUser")
    assert sorted(u["metadata"]["name"] for u in kafka_users) == sorted(u for u in users() if u != ADMIN_USER)
    acls = set()
    for user in kafka_users:
        spec, name = user["spec"], user["metadata"]["name"]
        assert spec["authentication"] == {"type": "scram-sha-512"}
        assert spec["authorization"]["type"] == "simple"
        for rule in spec["authorization"]["acls"]:
            assert rule.get("type", "allow") == "allow" and rule.get("host", "*") == "*"
            res = rule["resource"]
            acls |= {Acl(name, res["type"], res["name"], res["patternType"], op) for op in rule["operations"]}
    assert acls == set(all_acls())


def test_kafka_cluster_as_the_project_runs_it() -> None:
    pom = (K8S_DIR.parent / "kafka" / "pom.xml").read_text(encoding="utf-8")
    kafka = named("Kafka", k8s_generate.KAFKA_CLUSTER)["spec"]["kafka"]
    assert re.search(rf"<kafka.version>{re.escape(kafka['version'])}</kafka.version>", pom)
    assert kafka["authorization"]["type"] == "simple"
    assert kafka["config"]["default.replication.factor"] == 3 and kafka["config"]["min.insync.replicas"] == 2
    [listener] = [lst for lst in kafka["listeners"] if lst.get("authentication")]
    assert listener["tls"] is True and listener["authentication"]["type"] == "scram-sha-512"
    pools = {p["metadata"]["name"]: p["spec"] for p in of_kind("KafkaNodePool")}
    assert sum(p["replicas"] for p in pools.values() if "broker" in p["roles"]) == 3
    assert sum(p["replicas"] for p in pools.values() if "controller" in p["roles"]) == 3
    config = named("ConfigMap", "bianmin-config")["data"]
    assert config["KAFKA_BOOTSTRAP_SERVERS"] == f"{k8s_generate.KAFKA_CLUSTER}-kafka-bootstrap.bianmin.svc:{listener['port']}"
    assert config["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"


def test_postgres_cluster_and_backup() -> None:
    cluster = named("Cluster", "bianmin-db")["spec"]
    assert cluster["instances"] == 3 and cluster["bootstrap"]["initdb"]["database"] == "bianmin"
    [backup] = of_kind("ScheduledBackup")
    assert backup["spec"]["cluster"]["name"] == "bianmin-db"


def env_of(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env", [])}


@pytest.mark.parametrize("service", SERVICES)
def test_service_deployment_is_production_ready(service: str) -> None:
    deployment = named("Deployment", service)
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["args"] == [f"services.{service}"]
    # Every shutdown step is bounded; their sum, after the preStop pause, ends before the kill.
    pause = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pod["terminationGracePeriodSeconds"] > shutdown.TOTAL_SECONDS + pause
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][kind])
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "capabilities": {"drop": ["ALL"]}}
    assert deployment["spec"]["replicas"] >= 2

    env = env_of(container)
    assert env["KAFKA_SASL_USERNAME"]["value"] == service
    # Strimzi names a KafkaUser's secret after the user, and the cluster CA secret after the cluster.
    assert env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": service, "key": "password"}
    assert named("KafkaUser", service)
    ca = {v["name"]: v for v in pod["volumes"]}["kafka-ca"]["secret"]["secretName"]
    assert ca == f"{k8s_generate.KAFKA_CLUSTER}-cluster-ca-cert"
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": "bianmin-db-app", "key": "uri"}
    prefix = service.upper()
    port = int(env[f"{prefix}_PORT"]["value"])
    assert env[f"{prefix}_HOST"]["value"] == "0.0.0.0"
    assert container["ports"] == [{"name": "http", "containerPort": port, "protocol": "TCP"}]

    labels = deployment["spec"]["selector"]["matchLabels"]
    svc = named("Service", service)["spec"]
    assert svc["selector"] == labels and svc["ports"][0]["port"] == port
    pdb = named("PodDisruptionBudget", service)["spec"]
    assert pdb["selector"]["matchLabels"] == labels and pdb["minAvailable"] < deployment["spec"]["replicas"]


def test_every_deployment_is_one_of_the_services() -> None:
    assert sorted(d["metadata"]["name"] for d in of_kind("Deployment")) == sorted(SERVICES)


def test_audit_runs_as_the_restricted_role_with_its_signing_key() -> None:
    [container] = named("Deployment", "audit")["spec"]["template"]["spec"]["containers"]
    env = env_of(container)
    role = named("Cluster", "bianmin-db")["spec"]["managed"]["roles"][0]
    assert env["AUDIT_DATABASE_URL"]["value"].startswith(f"postgresql://{role['name']}:$(AUDIT_DB_PASSWORD)@")
    assert env["AUDIT_DB_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == role["passwordSecret"]["name"]
    key_dir = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}["signing-key"]
    assert env["AUDIT_SIGNING_KEY_FILE"]["value"].startswith(key_dir + "/")


def test_every_resource_is_in_the_namespace() -> None:
    from deploy.tests.manifests import k8s_resources

    for resource in k8s_resources():
        if resource["kind"] != "Namespace":
            assert resource["metadata"].get("namespace") == "bianmin", (resource["_file"].name, resource["metadata"]["name"])


def test_intake_reads_the_calendar_config_map() -> None:
    pod = named("Deployment", "intake")["spec"]["template"]["spec"]
    [container] = pod["containers"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert env_of(container)["BIANMIN_CALENDAR_DIR"]["value"] == mounts["calendar"]
    config_map = {v["name"]: v for v in pod["volumes"]}["calendar"]["configMap"]["name"]
    assert named("ConfigMap", config_map)
