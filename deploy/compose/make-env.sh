#!/bin/sh
# Writes deploy/compose/.env (passwords, JWT secret, Kafka cluster id) and the audit signing key
# into deploy/compose/secrets/, once: existing files are kept. Needs openssl.
set -eu
cd "$(dirname "$0")"
umask 077
if [ ! -f .env ]; then
  pw() { openssl rand -hex 24; }
  {
    echo "# Secrets of the single-server install (docs/runbook.md). Keep this file; mode 600."
    echo "POSTGRES_PASSWORD=$(pw)"
    echo "AUDIT_DB_PASSWORD=$(pw)"
    echo "BIANMIN_JWT_SECRET=$(openssl rand -hex 32)"
    echo "INTAKE_RATING_LINK_SECRET=$(openssl rand -hex 32)"
    echo "KAFKA_CLUSTER_ID=$(openssl rand -base64 16 | tr '+/' '-_' | cut -c1-22)"
    echo "KAFKA_ADMIN_PASSWORD=$(pw)"
    for user in INTAKE ROUTING NOTIFY AUDIT PARTNER_DEMO INSPECTOR; do echo "${user}_KAFKA_PASSWORD=$(pw)"; done
    echo "GRAFANA_ADMIN_PASSWORD=$(pw)"
  } > .env
  echo "wrote $(pwd)/.env"
fi
mkdir -p secrets
if [ ! -f secrets/audit-signing-key.pem ]; then
  openssl genpkey -algorithm ed25519 -out secrets/audit-signing-key.pem
  # Read by the container's user through a bind mount; the directory keeps others out.
  chmod 0644 secrets/audit-signing-key.pem
  echo "wrote $(pwd)/secrets/audit-signing-key.pem"
fi
