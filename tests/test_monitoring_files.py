"""The alert rules, the PrometheusRule, the PodMonitor and the dashboard: valid PromQL, naming only
metrics the services expose, Chinese annotations pointing to the runbook, and in step with each other."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import promql_parser
import pytest
import yaml
from prometheus_client import REGISTRY

import services.audit.app
import services.intake.app
import services.notify.app
import services.routing.app  # noqa: F401 - importing the services registers their metrics
from deploy import monitoring

pytestmark = pytest.mark.unit

PROMTOOL = os.environ.get("PROMTOOL") or shutil.which("promtool", path=str(monitoring.ROOT / ".local" / "bin")) \
    or shutil.which("promtool")
RUNBOOK_SECTIONS = ("start", "stop", "scale", "upgrade", "backup/restore", "rotate keys", "re-drive dead letters",
                    "replay a projection", "calendar", "staff nobody could text")
FROM_PROMETHEUS = {"up"}  # made by Prometheus itself for each target


def alert_rules() -> list[dict]:
    return [rule for group in yaml.safe_load(monitoring.ALERTS.read_text())["groups"] for rule in group["rules"]]


def dashboard_exprs() -> list[str]:
    board = json.loads(monitoring.DASHBOARD.read_text())
    return [t["expr"] for panel in board["panels"] for t in panel.get("targets", [])]


def exposed_names() -> set[str]:
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"], "gauge": [""]}
    return {family.name + suffix for family in REGISTRY.collect() if family.name.startswith("bianmin_")
            for suffix in suffixes.get(family.type, [""])}


def selected_names(expr: str) -> set[str]:
    names: set[str] = set()
    promql_parser.walk(promql_parser.parse(expr),
                       lambda node: names.add(node.name) if isinstance(node, promql_parser.VectorSelector) else None)
    return names


def test_every_expression_parses_and_names_only_exposed_metrics():
    exprs = [r["expr"] for r in alert_rules()] + dashboard_exprs()
    assert len(exprs) > 30
    exposed = exposed_names() | FROM_PROMETHEUS
    named: set[str] = set()
    for expr in exprs:
        names = selected_names(expr)  # raises on PromQL that does not parse
        assert names, f"no metric in {expr!r}"
        assert names <= exposed, f"{expr!r} names {names - exposed}, which no service exposes"
        named |= names
    # and the other way round: each metric a service exposes is on the dashboard or in a rule
    unused = exposed - named - FROM_PROMETHEUS - {"bianmin_http_request_duration_seconds_count",
                                                  "bianmin_http_request_duration_seconds_sum"}
    assert not unused, f"exposed but on no panel and in no rule: {unused}"


def test_alerts_tell_county_it_in_chinese_what_to_do():
    rules = alert_rules()
    assert {r["alert"] for r in rules} >= {
        "BianminServiceDown", "BianminServiceNotReady", "BianminConsumerLagGrowing", "BianminOutboxStuck",
        "BianminDeadLettersPending", "BianminAuditChainBroken", "BianminSmsFailing", "BianminDeadlineBreachesPiling"}
    for rule in rules:
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        summary, description = rule["annotations"]["summary"], rule["annotations"]["description"]
        assert re.search(r"[\u4e00-\u9fff]", summary) and re.search(r"[\u4e00-\u9fff]", description), rule["alert"]
        assert "docs/runbook.md" in description and any(f"{s} 一节" in description for s in RUNBOOK_SECTIONS), \
            f"{rule['alert']} points to no runbook section"


def test_kubernetes_files_are_made_from_the_rules_and_select_the_pods():
    assert monitoring.PROMETHEUS_RULE.read_text() == monitoring.prometheus_rule(), "run make monitoring"
    assert monitoring.DASHBOARD.read_text() == monitoring.dashboard(), "run make monitoring"
    crd = yaml.safe_load(monitoring.PROMETHEUS_RULE.read_text())
    assert crd["kind"] == "PrometheusRule"
    assert crd["spec"]["groups"] == yaml.safe_load(monitoring.ALERTS.read_text())["groups"]
    pod_monitor = yaml.safe_load((monitoring.PROMETHEUS_RULE.parent / "pod-monitor.yaml").read_text())
    assert pod_monitor["kind"] == "PodMonitor"
    assert pod_monitor["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/part-of": "bianmin"}
    [endpoint] = pod_monitor["spec"]["podMetricsEndpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")


@pytest.mark.skipif(not PROMTOOL, reason="promtool not installed (make promtool)")
def test_promtool_checks_the_rules_and_their_unit_tests_pass():
    assert PROMTOOL is not None
    for args in (["check", "rules", str(monitoring.ALERTS)],
                 ["test", "rules", str(monitoring.ALERTS.with_name("alerts.test.yml"))]):
        done = subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
