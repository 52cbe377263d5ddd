# bianmin: `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_SYS ?= python3
UV_VERSION := 0.13.8
KUBECONFORM_VERSION := v0.8.0
KUBECONFORM := .local/bin/kubeconform
BOOT := .local/bootstrap
UV := $(BOOT)/bin/uv
PY := .venv/bin/python
PYTEST := $(PY) -m pytest
ROLE ?= staff
TOWNSHIP ?= qingshui
SERVICE ?= notify
SUB ?= dev-user
DEPARTMENT ?=

help: ## List the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(UV):
	@mkdir -p .local
	$(PYTHON_SYS) -m venv $(BOOT)
	$(BOOT)/bin/pip install -q --disable-pip-version-check uv==$(UV_VERSION)

.venv/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --locked --quiet
	@touch $@

install: .venv/.synced $(KUBECONFORM).$(KUBECONFORM_VERSION) ## Install Python packages (locked), the Kafka jars, the documents' Chinese font (npm registry), kubeconform and kcat (Debian package, for the partner example)
	@$(PY) deploy/local.py jars
	@$(PY) deploy/local.py fonts
	@command -v kcat >/dev/null 2>&1 || apt-get install -y -q kcat >/dev/null 2>&1 \
		|| { apt-get update -q >/dev/null && apt-get install -y -q kcat >/dev/null; } \
		|| echo "warning: could not install kcat (apt-get install kcat as root); the partner kcat example test needs it" >&2

# kubeconform validates deploy/k8s in the suite; built from the Go module proxy, pinned.
$(KUBECONFORM).$(KUBECONFORM_VERSION):
	@mkdir -p .local/bin
	GOBIN=$(CURDIR)/.local/bin GOFLAGS=-mod=mod go install github.com/yannh/kubeconform/cmd/kubeconform@$(KUBECONFORM_VERSION)
	@touch $@

up: install ## Start Kafka, PostgreSQL and the four services in the background
	@$(PY) deploy/local.py up
	@$(PY) deploy/services.py up

down: ## Stop the services, Kafka and PostgreSQL
	@$(PY) deploy/services.py down || true
	@$(PY) deploy/local.py down

cluster-up: install ## A local 3-node Kafka cluster beside `make up` (ports 9094-9099); see docs/local-cluster.md
	@$(PY) deploy/local_cluster.py up
	@echo 'services on it: eval "$$($(PY) deploy/local_cluster.py env)" && make up'

cluster-down: ## Stop the local 3-node Kafka cluster
	@$(PY) deploy/local_cluster.py down

cluster-status: ## Which nodes of the local Kafka cluster answer
	@$(PY) deploy/local_cluster.py status

demo: up ## A scripted day at a township centre, against the running system
	@$(PY) -m deploy.demo

test: install lint ## Lint, the whole suite (unit, integration, end-to-end), then the fault suite, on real Kafka and PostgreSQL
	$(PYTEST) -m "not fault"
	$(PYTEST) -m fault tests/faults

test-faults: install ## Fault suite: kill -9, outages, rebalance, hostile input, tampering (own Kafka and PostgreSQL)
	$(PYTEST) -m fault tests/faults

lint: .venv/.synced ## ruff (style, imports, bugbear) and mypy (types) over the code
	.venv/bin/ruff check .
	.venv/bin/mypy

test-unit: install ## Pure rules only, no I/O
	$(PYTEST) -m unit

test-integration: install ## Each service against real Kafka and PostgreSQL
	$(PYTEST) -m integration

test-e2e: install ## Services as processes, public interfaces only
	$(PYTEST) -m e2e

bench: install ## Benchmarks: throughput and latency percentiles, printed
	$(PY) -m bench.summary --clear
	$(PY) -m bench.submit_to_audit
	$(PY) -m bench.deadline_timers
	$(PY) -m bench.sms_providers
	$(PY) -m bench.inbox_batches
	$(PY) -m bench.notify_send
	$(PY) -m bench.audit_proofs
	$(PY) -m bench.audit_ingest
	$(PY) -m bench.audit_queries
	$(PY) -m bench.inspector_reads
	$(PY) -m bench.event_store
	$(PY) -m bench.summary

partner: .venv/.synced ## Give a partner system read access to the case topics on the local Kafka: make partner NAME=county-gis
	@test -n "$(NAME)" || { echo "usage: make partner NAME=<partner>" >&2; exit 2; }
	@$(PY) -m deploy.kafka_setup --partner "$(NAME)"

token: .venv/.synced ## Print a token for this install: make token ROLE=staff TOWNSHIP=qingshui SUB=qs-social_security-01 DEPARTMENT=social_security
	@$(PY) -m services.kit.token --role $(ROLE) --township "$(TOWNSHIP)" --sub "$(SUB)" --department "$(DEPARTMENT)"

redrive: .venv/.synced ## Re-apply a running service's dead letters after a fix: make redrive SERVICE=notify
	@$(PY) -m services.kit.redrive --service $(SERVICE)

schemas: .venv/.synced ## Regenerate the committed JSON Schemas of the events
	$(PY) -m contracts.generate

k8s: .venv/.synced ## Regenerate deploy/k8s/kafka-topics.yaml and kafka-users.yaml from the topic and ACL tables
	$(PY) -m deploy.k8s_generate

validate-deploy: install ## Validate deploy/k8s (kubeconform, strict, offline) and deploy/compose (compose-spec schema)
	$(PY) -m deploy.k8s_validate
	.venv/bin/check-jsonschema --schemafile deploy/compose/compose-spec.json deploy/compose/compose.yaml

monitoring: .venv/.synced ## Regenerate the PrometheusRule (from deploy/monitoring/alerts.yml) and the Grafana dashboard
	$(PY) -m deploy.monitoring

promtool: ## Build promtool into .local/bin (Go; slow: about 30 min on 2 cores), so the suite also runs the alert rules' unit tests
	GOBIN=$(CURDIR)/.local/bin go install github.com/prometheus/prometheus/cmd/promtool@v0.316.0

lock: | $(UV) ## Re-resolve uv.lock after editing pyproject.toml
	$(UV) lock

.PHONY: help install up down cluster-up cluster-down cluster-status demo test lint partner test-unit test-integration test-e2e test-faults bench token redrive schemas k8s validate-deploy monitoring promtool lock
