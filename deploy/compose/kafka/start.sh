#!/bin/bash
# Starts the single-server Kafka. In KRaft the admin's SCRAM credential must exist before the
# first start (there is no broker yet to create it with), so it is written when the storage is
# formatted; later starts keep the formatted storage (--ignore-formatted).
set -euo pipefail
: "${KAFKA_ADMIN_PASSWORD:?KAFKA_ADMIN_PASSWORD is not set (deploy/compose/.env)}"
: "${KAFKA_CLUSTER_ID:?KAFKA_CLUSTER_ID is not set (deploy/compose/.env)}"
config=/tmp/server.properties
umask 077
cp /opt/bianmin/server.properties "$config"
printf 'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="%s";\n' \
  "$KAFKA_ADMIN_PASSWORD" >> "$config"
# The admin's client settings, for the Kafka tools run with `docker compose exec kafka` (runbook).
cat > /tmp/admin.properties <<EOF
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$KAFKA_ADMIN_PASSWORD";
EOF
/opt/kafka/bin/kafka-storage.sh format --ignore-formatted --cluster-id "$KAFKA_CLUSTER_ID" --config "$config" \
  --add-scram "SCRAM-SHA-512=[name=admin,password=$KAFKA_ADMIN_PASSWORD]"
exec /opt/kafka/bin/kafka-server-start.sh "$config"
