"""The log: Kafka (embedded or a cluster), and nothing but Kafka, so that the rest of the hub
never talks to a broker except through these: its principals and ACLs, reading topics to
their committed end, publishing signed events, and the signed archive that outlives the
broker."""

from typing import TYPE_CHECKING

from hub.log.kafka_python import repair
from hub.surface import lazy_surface

# first, before any of the hub's Kafka clients can exist (see kafka_python)
repair()

__all__ = [
    "ADMIN",
    "ANY_HOST",
    "AUDITOR",
    "Archive",
    "ArchivedRecord",
    "ArchiverProcess",
    "AsyncPublisher",
    "BrokerSecurity",
    "EmbeddedBroker",
    "EmbeddedCluster",
    "Grant",
    "Publisher",
    "ReceiptReader",
    "as_client",
    "check_archive",
    "client_env",
    "client_kwargs",
    "desired_acls",
    "embedded_users",
    "kafka_version",
    "load_principals",
    "read_topics",
    "restore",
]

# Loaded name by name (hub.surface): every command's start-up imports hub.log for
# client_kwargs; the broker, the cluster, the archiver and their TLS wait for the commands
# that run them.
if TYPE_CHECKING:
    from hub.log.access import ADMIN, AUDITOR, as_client, client_env, client_kwargs, embedded_users
    from hub.log.acls import ANY_HOST, Grant, desired_acls, load_principals
    from hub.log.archive import Archive, ArchivedRecord
    from hub.log.archive_check import check_archive
    from hub.log.archiver import ArchiverProcess, restore
    from hub.log.broker import EmbeddedBroker
    from hub.log.kafka_cluster import EmbeddedCluster
    from hub.log.kafka_dist import kafka_version
    from hub.log.publishing import AsyncPublisher, Publisher
    from hub.log.reading import read_topics
    from hub.log.receipts import ReceiptReader
    from hub.log.scram import BrokerSecurity
else:
    __getattr__ = lazy_surface(
        __name__,
        {
            "hub.log.access": (
                "ADMIN",
                "AUDITOR",
                "as_client",
                "client_env",
                "client_kwargs",
                "embedded_users",
            ),
            "hub.log.acls": ("ANY_HOST", "Grant", "desired_acls", "load_principals"),
            "hub.log.archive": ("Archive", "ArchivedRecord"),
            "hub.log.archive_check": ("check_archive",),
            "hub.log.archiver": ("ArchiverProcess", "restore"),
            "hub.log.broker": ("EmbeddedBroker",),
            "hub.log.kafka_cluster": ("EmbeddedCluster",),
            "hub.log.kafka_dist": ("kafka_version",),
            "hub.log.publishing": ("AsyncPublisher", "Publisher"),
            "hub.log.reading": ("read_topics",),
            "hub.log.receipts": ("ReceiptReader",),
            "hub.log.scram": ("BrokerSecurity",),
        },
    )
