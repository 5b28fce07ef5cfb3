"""Record linkage without a plaintext identity index: is a newly referred person already a
participant? Keyed blocking tokens find the few earlier participants worth comparing with
(``tokens``, ``index``); a Fellegi-Sunter score over the two decrypted identities decides
(``scoring``); the linker follows the log and answers each referral (``linker``). Pure:
the secret and the identities are handed in."""

from hub.domain.linkage.linker import LINKER_FOLLOWS, Linker
from hub.domain.linkage.links import JOINING, Links
from hub.domain.linkage.scoring import Thresholds

__all__ = [
    "JOINING",
    "LINKER_FOLLOWS",
    "Linker",
    "Links",
    "Thresholds",
]
