"""The log: Kafka (embedded or a cluster) and how the hub reads and writes it."""

from hub.log.kafka_python import repair

repair()
