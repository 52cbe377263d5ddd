#!/usr/bin/env bash
# A partner reading bianmin's case events with kcat (Debian: apt-get install kcat), one line per event:
#   topic, key (case id), headers (event_type, schema_version), then the event's JSON.
#
#   KAFKA_BOOTSTRAP_SERVERS=kafka.county.example:9093 KAFKA_SASL_USERNAME=county-gis \
#   KAFKA_SASL_PASSWORD=... KAFKA_SSL_CAFILE=county-ca.pem  examples/partner/kcat.sh [topic ...]
#
# KAFKA_SECURITY_PROTOCOL is SASL_SSL unless set (SASL_PLAINTEXT for a local `make up`); the group is
# KAFKA_GROUP or "<user>.kcat" (a partner's groups must start with "<user>."). The password goes to kcat
# through a pipe, not its command line, so other users of the machine do not see it in `ps`.
set -euo pipefail

: "${KAFKA_BOOTSTRAP_SERVERS:?}" "${KAFKA_SASL_USERNAME:?}" "${KAFKA_SASL_PASSWORD:?}"
protocol="${KAFKA_SECURITY_PROTOCOL:-SASL_SSL}"
group="${KAFKA_GROUP:-$KAFKA_SASL_USERNAME.kcat}"
if [ "$#" -eq 0 ]; then
  set -- bianmin.intake.cases.v1 bianmin.routing.cases.v1 bianmin.notify.cases.v1
fi

# Kafka 4 refuses the SCRAM exchange of librdkafka before 2.6.1, and Debian 12's kcat links 2.0.2.
# LIBRDKAFKA_DIR names a directory holding a newer librdkafka.so.1 to run kcat with; inside the bianmin
# repository the one shipped in .venv's confluent-kafka wheel is used when it is not set.
librdkafka=$(kcat -V | sed -n 's/.*librdkafka \([0-9.]*\).*/\1/p')
if [ "$(printf '%s\n' 2.6.1 "$librdkafka" | sort -V | head -n1)" != 2.6.1 ]; then
  if [ -z "${LIBRDKAFKA_DIR:-}" ]; then
    repo=$(cd "$(dirname "$0")/../.." && pwd)
    wheel_lib=$(ls "$repo"/.venv/lib/python3*/site-packages/confluent_kafka.libs/librdkafka-*.so.1 2>/dev/null | head -n1)
    if [ -n "$wheel_lib" ]; then
      LIBRDKAFKA_DIR="$repo/.local/librdkafka"
      mkdir -p "$LIBRDKAFKA_DIR" && ln -sf "$wheel_lib" "$LIBRDKAFKA_DIR/librdkafka.so.1"
    else
      echo "kcat.sh: kcat uses librdkafka $librdkafka; SCRAM with Kafka 4 needs 2.6.1 or newer (set LIBRDKAFKA_DIR)" >&2
    fi
  fi
  if [ -n "${LIBRDKAFKA_DIR:-}" ]; then export LD_LIBRARY_PATH="$LIBRDKAFKA_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
fi

config() {
  echo "security.protocol=$protocol"
  echo "sasl.mechanisms=${KAFKA_SASL_MECHANISM:-SCRAM-SHA-512}"
  echo "sasl.username=$KAFKA_SASL_USERNAME"
  echo "sasl.password=$KAFKA_SASL_PASSWORD"
  if [ -n "${KAFKA_SSL_CAFILE:-}" ]; then echo "ssl.ca.location=$KAFKA_SSL_CAFILE"; fi
  # A new group starts at the beginning: the topics are kept forever.
  echo "auto.offset.reset=earliest"
}

exec kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -F <(config) -G "$group" -u \
  -f '%t key=%k %h %s\n' "$@"
