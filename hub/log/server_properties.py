"""What the embedded broker's ``server.properties`` says: a combined KRaft node that starts
fast, the JVM it runs in, and on a secured broker its three listeners."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.log.access import SCRAM

if TYPE_CHECKING:
    from hub.log.local_ca import BrokerTls

NODE_ID = 1
# What a one-node broker needs to start fast and to work at all (internal topics of
# replication 1); the rest is Kafka's defaults, as production would have them.
SINGLE_NODE = {
    "process.roles": "broker,controller",
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "offsets.topic.replication.factor": "1",
    "offsets.topic.num.partitions": "8",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "transaction.state.log.num.partitions": "8",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
    "group.initial.rebalance.delay.ms": "0",
    # a node restarted after a crash registers again only once its old registration has
    # expired: 1.5 s, not Kafka's 9 s (it is its own controller; its heartbeats are local,
    # every 0.3 s). Measured on 2 cores: a restart after SIGKILL is ready in 3.1 s, 6.2 s
    # with 3 s.
    "broker.session.timeout.ms": "1500",
    "broker.heartbeat.interval.ms": "300",
    # A start replays the metadata log from its latest snapshot. Kafka snapshots after an
    # hour or 20 MB of records counted since the node started, which a node restarted after
    # crashes may never reach: each restart adds every partition's leader change (12 KB
    # here), and after 40 restarts a start replayed 11,000 records, 2.2 s of its 4. A
    # snapshot after every 8 KB of new records (a restart's worth; the image is a few KB,
    # written in milliseconds) keeps the replay to one restart's records.
    "metadata.log.max.record.bytes.between.snapshots": "8192",
    "auto.create.topics.enable": "false",
    "num.network.threads": "2",
    "num.io.threads": "4",
    "num.recovery.threads.per.data.dir": "2",
}
LOG4J2 = """status = error
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = {log_file}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.state.name = state.change.logger
logger.state.level = WARN
"""
JVM_OPTIONS = [
    "-Xms128m",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    # C1 only: a broker that starts often and serves one city spends less CPU compiling
    # than C2 would save it (a restart ready in 2.8 s instead of 3.1 s, the first start in
    # 2.1 s instead of 2.7 s, with the class archive, on 2 cores)
    "-XX:TieredStopAtLevel=1",
    "-Djava.awt.headless=true",
]


def secured_properties(
    *,
    host: str,
    port: int,
    internal_port: int,
    controller: int,
    advertised: str,
    tls: BrokerTls,
    admin: str,
) -> dict[str, str]:
    """Three listeners, none of which both admits a stranger and grants super-user rights:

    - CLIENT (SASL_SSL, SCRAM-SHA-512): every client, the hub's admin included; the
      principal is the SCRAM user, and the authorizer applies deploy/acls.yaml's ACLs;
    - INTERNAL (SSL, client certificate required): the inter-broker listener;
    - CONTROLLER (SSL, client certificate required): the broker's half talks to the
      controller's half here. Kafka 4 cannot authenticate a controller listener with
      SCRAM (its credentials live in the metadata the controller serves), so it is
      mutual TLS: only a certificate of this hub's CA gets in, and the broker's own
      (CN=leadhub-broker) is the only one the CA ever issues.

    ``super.users`` names the hub's admin (SCRAM) and the broker's certificate; the
    authorizer denies anything no ACL allows (``allow.everyone.if.no.acl.found=false``).
    """
    return {
        "listeners": (
            f"CLIENT://{host}:{port},INTERNAL://{host}:{internal_port},"
            f"CONTROLLER://{host}:{controller}"
        ),
        "advertised.listeners": (f"CLIENT://{advertised},INTERNAL://{host}:{internal_port}"),
        "listener.security.protocol.map": "CLIENT:SASL_SSL,INTERNAL:SSL,CONTROLLER:SSL",
        "inter.broker.listener.name": "INTERNAL",
        "sasl.enabled.mechanisms": SCRAM,
        "listener.name.client.scram-sha-512.sasl.jaas.config": (
            "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        ),
        "listener.name.internal.ssl.client.auth": "required",
        "listener.name.controller.ssl.client.auth": "required",
        # inline PEM: a PEM keystore *file* needs an encrypted key (see hub.log.local_ca)
        "ssl.keystore.type": "PEM",
        "ssl.keystore.certificate.chain": tls.chain.read_text(encoding="ascii"),
        "ssl.keystore.key": tls.key.read_text(encoding="ascii"),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(tls.ca_cert),
        "ssl.enabled.protocols": "TLSv1.3,TLSv1.2",
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        "super.users": f"User:{admin};{tls.principal}",
    }


def escape(value: str) -> str:
    """A value as a Java properties file reads it back: backslash is its escape, and a
    PEM's line breaks become ``\\n`` so that the value stays on one line."""
    return value.replace("\\", "\\\\").replace("\n", "\\n")
