#!/usr/bin/env python3
"""A partner system's subscriber to bianmin's case events: prints one line per event.

    pip install aiokafka
    export KAFKA_BOOTSTRAP_SERVERS=kafka.county.example:9093 KAFKA_SASL_USERNAME=county-gis \
           KAFKA_SASL_PASSWORD=... KAFKA_SSL_CAFILE=county-ca.pem
    python subscriber.py                      # consumer group county-gis.subscriber

Connection: KAFKA_SECURITY_PROTOCOL (SASL_SSL unless set; SASL_PLAINTEXT for a local `make up`),
SCRAM-SHA-512 with the user and password county IT gave you. Your consumer groups must start with
`<your user>.`; you may read bianmin.intake.cases.v1, bianmin.routing.cases.v1 and
bianmin.notify.cases.v1 and nothing else.

Delivery is at least once: after a restart or a rebalance you may get an event again. Deduplicate
by `event_id` (here in memory; in a real system, in your database, in the same transaction as what
you do with the event), and commit offsets only after the events are handled.
Order holds per case and per producing service (`source`): `stream_version` counts 1, 2, 3 … there.
See docs/partners.md of the bianmin repository.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections import OrderedDict

from aiokafka import AIOKafkaConsumer
from aiokafka.helpers import create_ssl_context

CASE_TOPICS = ["bianmin.intake.cases.v1", "bianmin.routing.cases.v1", "bianmin.notify.cases.v1"]


class SeenIds:
    """The most recent event ids, oldest forgotten first."""

    def __init__(self, size: int = 100_000) -> None:
        self.size, self.ids = size, OrderedDict[str, None]()

    def add(self, event_id: str) -> bool:
        """False when the id was seen already (a redelivery)."""
        if event_id in self.ids:
            return False
        self.ids[event_id] = None
        if len(self.ids) > self.size:
            self.ids.popitem(last=False)
        return True


def connection() -> dict:
    protocol = os.environ.get("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    options = {"bootstrap_servers": os.environ["KAFKA_BOOTSTRAP_SERVERS"], "security_protocol": protocol,
               "sasl_mechanism": os.environ.get("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
               "sasl_plain_username": os.environ["KAFKA_SASL_USERNAME"],
               "sasl_plain_password": os.environ["KAFKA_SASL_PASSWORD"]}
    if protocol == "SASL_SSL":
        options["ssl_context"] = create_ssl_context(cafile=os.environ.get("KAFKA_SSL_CAFILE"))
    return options


def line(topic: str, event: dict) -> str:
    return (f"{topic} case={event['case_id']} {event['source']}#{event['stream_version']} "
            f"{event['event_type']} event_id={event['event_id']} at={event['occurred_at']}")


async def run(topics: list[str], group: str) -> None:
    # A new group reads the topics from their start: they are kept forever.
    consumer = AIOKafkaConsumer(*topics, group_id=group, enable_auto_commit=False, auto_offset_reset="earliest",
                                **connection())
    seen = SeenIds()
    await consumer.start()
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=1000)
            for tp, records in batch.items():
                for record in records:
                    event = json.loads(record.value)
                    if seen.add(event["event_id"]):
                        print(line(tp.topic, event), flush=True)
            if batch:
                await consumer.commit()  # after handling: a crash before this means a redelivery, not a loss
    finally:
        await consumer.stop()


def main() -> int:
    user = os.environ.get("KAFKA_SASL_USERNAME", "partner")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", default=f"{user}.subscriber", help="consumer group; must start with '<user>.'")
    parser.add_argument("topics", nargs="*", default=CASE_TOPICS)
    args = parser.parse_args()
    try:
        asyncio.run(run(args.topics, args.group))
    except KeyboardInterrupt:
        return 0
    except Exception as exc:  # an authorization refusal, a wrong password, an unreachable cluster
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
