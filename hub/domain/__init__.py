"""The pure domain: what the hub decides, with no I/O. Policy and consent, admission of an
event (the gatekeeper), deadlines and lapses, timelines, notices, and the partition
processor that folds one canonical event into all of them."""
