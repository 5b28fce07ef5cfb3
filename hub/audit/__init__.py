"""What lets someone who does not trust the hub check it: the decision log is tamper-evident
(a Merkle tree over lead.audit, checkpoints the hub signs and witnesses cosign), and an
auditor verifies the archive and the checkpoints, replays every decision through the same
domain code and compares, accounts for each disclosure, lists what a breach exposed and
erases a person without breaking a proof."""

from hub.audit import merkle
from hub.audit.auditor import AuditLog, Auditor, read_log
from hub.audit.checkpoints import log_keys, signed_checkpoint, tree_of, witness_name
from hub.audit.erasure import erasure_basis, publish_erasure
from hub.audit.exposure import exposure
from hub.audit.merkle import leaf_hash
from hub.audit.replay import LogRecord, processes_for
from hub.audit.tree import MerkleTree
from hub.audit.verification import exit_code

__all__ = [
    "AuditLog",
    "Auditor",
    "LogRecord",
    "MerkleTree",
    "erasure_basis",
    "exit_code",
    "exposure",
    "leaf_hash",
    "log_keys",
    "merkle",
    "processes_for",
    "publish_erasure",
    "read_log",
    "signed_checkpoint",
    "tree_of",
    "witness_name",
]
