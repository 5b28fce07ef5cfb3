"""Keys and signatures (Ed25519, per agency and key id), notices sealed to one agency (an
epoch key wrapped with HPKE, RFC 9180, then AES-GCM per notice) and the C2SP signed notes
of the checkpoints: pure functions over bytes and keys, so that every layer above can prove
who said what, and only its recipient can open a notice, without any of them doing I/O."""

from typing import TYPE_CHECKING

from hub.surface import lazy_surface

__all__ = [
    "KEY_ID",
    "Checkpoint",
    "EpochSealer",
    "IntakeKey",
    "IntakeKeyring",
    "NoteError",
    "PublicKeys",
    "SealError",
    "SealingKey",
    "SigningKey",
    "current_key",
    "generate_key",
    "generate_sealing_key",
    "intake_info",
    "linkage_secret",
    "load_recipient_key",
    "load_sealing_key",
    "load_signing_key",
    "note",
    "open_epoch_sealed",
    "open_sealed",
    "parse_note",
    "read_key_set",
    "seal",
    "signed_key_set",
    "write_key",
    "write_sealing_key",
]

# Loaded name by name (hub.surface): every command imports hub.context, which needs the
# signing and sealing keys; the signed notes wait for the checkpoints and the archive.
if TYPE_CHECKING:
    from hub.crypto import note
    from hub.crypto.epochs import EpochSealer, open_epoch_sealed
    from hub.crypto.intake import (
        IntakeKey,
        IntakeKeyring,
        current_key,
        intake_info,
        read_key_set,
        signed_key_set,
    )
    from hub.crypto.linkage_secret import linkage_secret
    from hub.crypto.note import Checkpoint, NoteError, parse_note
    from hub.crypto.sealing import (
        SealError,
        SealingKey,
        generate_sealing_key,
        load_recipient_key,
        load_sealing_key,
        open_sealed,
        seal,
        write_sealing_key,
    )
    from hub.crypto.signing import (
        KEY_ID,
        PublicKeys,
        SigningKey,
        generate_key,
        load_signing_key,
        write_key,
    )
else:
    __getattr__ = lazy_surface(
        __name__,
        {
            "hub.crypto.epochs": ("EpochSealer", "open_epoch_sealed"),
            "hub.crypto.intake": (
                "IntakeKey",
                "IntakeKeyring",
                "current_key",
                "intake_info",
                "read_key_set",
                "signed_key_set",
            ),
            "hub.crypto.linkage_secret": ("linkage_secret",),
            "hub.crypto.note": ("Checkpoint", "NoteError", "parse_note"),
            "hub.crypto.sealing": (
                "SealError",
                "SealingKey",
                "generate_sealing_key",
                "load_recipient_key",
                "load_sealing_key",
                "open_sealed",
                "seal",
                "write_sealing_key",
            ),
            "hub.crypto.signing": (
                "KEY_ID",
                "PublicKeys",
                "SigningKey",
                "generate_key",
                "load_signing_key",
                "write_key",
            ),
        },
    )
