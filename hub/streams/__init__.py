"""The hub's stream processors: thin adapters that move records between Kafka topics and
the pure handlers in ``handlers``."""
