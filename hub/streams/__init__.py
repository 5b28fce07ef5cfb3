"""The hub's stream processors: thin adapters that move records between Kafka topics and
the pure handlers in ``handlers``, one transaction per input partition, so that every
decision is made by the domain code replay runs too, and exactly once."""

from hub.streams.worker import run

__all__ = ["run"]
