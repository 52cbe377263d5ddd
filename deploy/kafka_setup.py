"""Makes a Kafka cluster ready for bianmin, idempotently: the declared topics, the SCRAM users and
exactly the ACLs of deploy/kafka_acls.py. `make up` and the test suites run it on the local broker;
in a cluster run it once as the admin user (or let Strimzi do the same from deploy/k8s).

    python -m deploy.kafka_setup                        # the local broker, as its admin
    python -m deploy.kafka_setup --partner county-gis   # also a partner: user, password, ACLs
    python -m deploy.kafka_setup --bootstrap kafka:9093 --password-dir /run/secrets/kafka

The example partner `partner-demo` is made on the local broker only (`--demo-partner` elsewhere).

Connects with the KAFKA_* variables (services.kit.kafka_security) when KAFKA_SECURITY_PROTOCOL is
set, else as the local admin. Passwords: one file per user in --password-dir, generated there when
missing (default .local/kafka-passwords). The admin user is never altered: it is the one connecting.
It uses confluent-kafka's admin client because aiokafka's has no ACL or SCRAM calls.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialAlteration,
    UserScramCredentialUpsertion,
)

from contracts.topics import ALL_TOPICS, COMPACTED_TOPICS
from deploy.kafka_acls import ADMIN_USER, DEMO_PARTNER, SERVICES, Acl, all_acls, users
from deploy.kafka_passwords import LOCAL_PASSWORD_DIR, local_env, password, password_file
from services.kit.kafka_security import KafkaSecurity
from services.kit.topics import topic_configs

SCRAM_ITERATIONS = 8192  # Kafka's minimum for SHA-512 is 4096
TIMEOUT = 30.0
PARTNER_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$")
RESERVED = {ADMIN_USER, *SERVICES, "inspector"}


@dataclass
class SetupReport:
    topics_created: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    acls_created: int = 0
    acls_deleted: int = 0


def check_partner_name(name: str) -> str:
    if not PARTNER_NAME.match(name) or name in RESERVED or name.startswith("bianmin"):
        raise ValueError(f"partner name {name!r}: 3-40 lower-case letters, digits and '-', not a bianmin user")
    return name


def admin_client(bootstrap: str, security: KafkaSecurity) -> AdminClient:
    return AdminClient({"bootstrap.servers": bootstrap, "client.id": "bianmin-kafka-setup", "log_level": 4,  # warnings up
                        **security.librdkafka()})


def _wait(futures: dict, ignore: Iterable[int] = ()) -> None:
    for key, future in futures.items():
        try:
            future.result(timeout=TIMEOUT)
        except KafkaException as exc:
            if exc.args[0].code() not in set(ignore):
                raise RuntimeError(f"kafka setup: {key}: {exc.args[0].str()}") from exc


def create_topics(admin: AdminClient, *, partitions: int = 3, replication: int = 1) -> list[str]:
    """Creates the declared topics that are missing; returns their names."""
    existing = set(admin.list_topics(timeout=TIMEOUT).topics)
    missing = [t for t in ALL_TOPICS if t not in existing]
    if missing:
        # Contact topics are compacted: a tombstone per case is how a phone number is erased.
        new = [NewTopic(t, num_partitions=partitions, replication_factor=replication,
                        config=topic_configs(replication) | ({"cleanup.policy": "compact"} if t in COMPACTED_TOPICS else {}))
               for t in missing]
        _wait(admin.create_topics(new, request_timeout=TIMEOUT), ignore=[KafkaError.TOPIC_ALREADY_EXISTS])
    return missing


def upsert_users(admin: AdminClient, names: Iterable[str], password_dir: Path) -> list[str]:
    """Sets each user's SCRAM-SHA-512 credential to the password in its file (made when missing)."""
    names = [n for n in names if n != ADMIN_USER]
    info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS)
    changes: list[UserScramCredentialAlteration] = [
        UserScramCredentialUpsertion(n, info, password(n, password_dir).encode()) for n in names]
    _wait(admin.alter_user_scram_credentials(changes, request_timeout=TIMEOUT))
    return names


def _binding(acl: Acl) -> AclBinding:
    return AclBinding(ResourceType[acl.resource.upper()], acl.name,
                      ResourcePatternType.LITERAL if acl.pattern == "literal" else ResourcePatternType.PREFIXED,
                      f"User:{acl.user}", "*", AclOperation[acl.operation.upper()], AclPermissionType.ALLOW)


def _key(b: AclBinding) -> tuple:
    return (b.restype, b.name, b.resource_pattern_type, b.principal, b.host, b.operation, b.permission_type)


def sync_acls(admin: AdminClient, acls: list[Acl], managed: Iterable[str]) -> tuple[int, int]:
    """Makes the ACLs of the `managed` users exactly `acls`: creates what is missing, deletes the rest.
    Other principals' ACLs are left alone. Returns (created, deleted)."""
    wanted = {_key(b): b for b in map(_binding, acls)}
    principals = {f"User:{u}" for u in managed}
    # None matches any name, principal and host (the stubs say str, the library wants None).
    any_acl = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None,  # type: ignore[arg-type]
                               AclOperation.ANY, AclPermissionType.ANY)
    existing = {_key(b): b for b in admin.describe_acls(any_acl, request_timeout=TIMEOUT).result(timeout=TIMEOUT)
                if b.principal in principals}
    missing = [b for k, b in wanted.items() if k not in existing]
    extra = [b for k, b in existing.items() if k not in wanted]
    if missing:
        _wait(admin.create_acls(missing, request_timeout=TIMEOUT))
    if extra:
        filters = [AclBindingFilter(b.restype, b.name, b.resource_pattern_type, b.principal, b.host, b.operation,
                                    b.permission_type) for b in extra]
        _wait(admin.delete_acls(filters, request_timeout=TIMEOUT))
    return len(missing), len(extra)


def setup(bootstrap: str, security: KafkaSecurity, *, password_dir: Path = LOCAL_PASSWORD_DIR,
          partners: tuple[str, ...] = (DEMO_PARTNER,), partitions: int = 3, replication: int = 1) -> SetupReport:
    partners = tuple(check_partner_name(p) for p in dict.fromkeys(partners))
    admin = admin_client(bootstrap, security)
    report = SetupReport(topics_created=create_topics(admin, partitions=partitions, replication=replication))
    report.users = upsert_users(admin, users(partners), password_dir)
    report.acls_created, report.acls_deleted = sync_acls(admin, all_acls(partners), report.users)
    return report


def local_admin_security(password_dir: Path = LOCAL_PASSWORD_DIR) -> KafkaSecurity:
    return KafkaSecurity.from_env(local_env(ADMIN_USER, password_dir))


def main(argv: list[str] | None = None) -> int:
    from deploy.local_kafka import kafka_bootstrap, kafka_external

    parser = argparse.ArgumentParser(description="Topics, SCRAM users and ACLs of bianmin on a Kafka cluster.")
    parser.add_argument("--bootstrap", default=None, help="default: KAFKA_BOOTSTRAP_SERVERS or the local broker")
    parser.add_argument("--password-dir", type=Path, default=LOCAL_PASSWORD_DIR,
                        help="one file per user holding its password; missing ones are generated")
    parser.add_argument("--partner", action="append", default=[], metavar="NAME",
                        help="also a partner user reading the case topics in groups 'NAME.*' (repeatable)")
    parser.add_argument("--partitions", type=int, default=int(os.environ.get("BIANMIN_KAFKA_PARTITIONS", "3")))
    parser.add_argument("--replication", type=int, default=int(os.environ.get("BIANMIN_KAFKA_REPLICATION", "1")))
    parser.add_argument("--demo-partner", action=argparse.BooleanOptionalAction, default=None,
                        help=f"also the example partner {DEMO_PARTNER!r} (default: on the local broker only)")
    parser.add_argument("--topics-only", action="store_true",
                        help="only the topics: for a cluster without authentication (the local three-node one)")
    args = parser.parse_args(argv)
    bootstrap = args.bootstrap or kafka_bootstrap()
    local = args.bootstrap is None and kafka_external() is None
    demo = (DEMO_PARTNER,) if (local if args.demo_partner is None else args.demo_partner) else ()
    security = (KafkaSecurity.from_env() if os.environ.get("KAFKA_SECURITY_PROTOCOL")
                else local_admin_security(args.password_dir))
    if args.topics_only:
        created = create_topics(admin_client(bootstrap, security), partitions=args.partitions,
                                replication=args.replication)
        print(f"kafka setup on {bootstrap}: {len(created)} topics created")
        return 0
    try:
        report = setup(bootstrap, security, password_dir=args.password_dir,
                       partners=(*demo, *args.partner), partitions=args.partitions, replication=args.replication)
    except (ValueError, RuntimeError, KafkaException) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"kafka setup on {bootstrap}: {len(report.topics_created)} topics created, users {', '.join(report.users)}; "
          f"ACLs {report.acls_created} created, {report.acls_deleted} removed")
    for partner in args.partner:
        print(f"partner {partner}: user {partner}, password in {password_file(partner, args.password_dir)}, "
              f"consumer groups '{partner}.*'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
