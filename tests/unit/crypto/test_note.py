"""Signed notes, checkpoints and cosignatures against the reference implementations' own
vectors (byte for byte), round trips, tampering, and every malformation a parser must reject.

Vector sources, each cited again where it is used:
  [go]      golang.org/x/mod sumdb/note/note.go (package doc) and note_test.go
  [sumdb]   a sum.golang.org checkpoint quoted in sigsum-go pkg/checkpoint/checkpoint_test.go
            (TestGoSumDBCheckpoint, "retrieved from https://sum.golang.org/latest,
            2024-09-23"), with the key from golang/go src/cmd/go/internal/modfetch/key.go
  [sigsum]  sigsum-go pkg/checkpoint/checkpoint_test.go and signature.go (key = Ed25519 seed
            {17, 0, ..., 0}, i.e. crypto.PrivateKey{17})
  [tdev]    transparency-dev/formats note/note_cosigv1_test.go and log/checkpoint_test.go
  [c2sp]    the examples in c2sp.org/signed-note and c2sp.org/tlog-cosignature
"""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.crypto.note import (
    COSIGNATURE_V1,
    ED25519,
    MAX_SIGNATURES,
    Checkpoint,
    NoteError,
    NoteKey,
    Signature,
    cosign,
    format_note,
    open_note,
    parse_note,
    parse_signer_key,
    sign,
    signer_key,
)

# --- [go] golang.org/x/mod/sumdb/note: note.go package doc, note_test.go TestSign/TestOpen ---
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"  # noqa: E501
ENOCH_SIG = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"  # noqa: E501
BAD_NAME_SIG = "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="  # noqa: E501

# --- [sumdb] sum.golang.org checkpoint, via sigsum-go TestGoSumDBCheckpoint ---
SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SUMDB_NOTE = (
    "go.sum database tree\n"
    "30055305\n"
    "mXfgRcJ0bG0j3CPdKwgGWtUzBUbX67saZGRmFuJGGsM=\n"
    "\n"
    "— sum.golang.org Az3grpgEild5qw7+5dtV13Kf1C2Xurm8q4fhdxvcsDHnqNTaxL2AFjBY+2TyGKevucFcAAlWFJJYle3EJlDCrQ+y3A8=\n"  # noqa: E501
)

# --- [sigsum] sigsum-go pkg/checkpoint/checkpoint_test.go ---
SIGSUM_KEY = Ed25519PrivateKey.from_private_bytes(bytes([17]) + bytes(31))
SIGSUM_ORIGIN = (
    "sigsum.org/v1/tree/e796172b92befd62d9dc67e41c2f5bc9d3100a3023b20b1ca40288dd1c679e69"
)
SIGSUM_ROOT = bytes([28, 14, 71]) + bytes(29)  # "HA5H..."
SIGSUM_LOG_SIG = (  # validCheckpointASCII, TestCheckpointSigned
    f"— {SIGSUM_ORIGIN} gJ2ho0n8F8olcerUF1FFdv235A/5as/coWrpLrtE7ovMeP5whgwouYExowG/lTznxu6OUGjjt5yJQ6bXtTcf718MqAQ=\n"  # noqa: E501
)
# TestCheckpointVerifyCosignatureByKey: line 2 is the cosignature by example.org/witness at
# time 1234 over testCheckpoint; line 1 has another key id, line 3 another name, and line 4
# (same name and key id) a signature of the wrong size.
SIGSUM_COSIGS = [
    "— example.org/witness yX8uUAAAAAAAAATSftMzceM8zssdZ9jin9SjwIxzx9iADMf63VqirX2hafol9RsqNqbofIz0LVRqHXI2kpEBSki5RTXFtxz1vo9+Cg==\n",  # noqa: E501
    "— example.org/witness ys8uUAAAAAAAAATSftMzceM8zssdZ9jin9SjwIxzx9iADMf63VqirX2hafol9RsqNqbofIz0LVRqHXI2kpEBSki5RTXFtxz1vo9+Cg==\n",  # noqa: E501
    "— example.org/witness-2 ys8uUAAAAAAAAATSftMzceM8zssdZ9jin9SjwIxzx9iADMf63VqirX2hafol9RsqNqbofIz0LVRqHXI2kpEBSki5RTXFtxz1vo9+Cg==\n",  # noqa: E501
    "— example.org/witness ys8uUAAAAAAAAATSftMzceM8zssdZ9jin9SjwIxzx9iADMf63VqirX2hafol9RsqNqbofIz0LVRqHXI2kpEBSki5RTXFtxz1vo9+CgXX\n",  # noqa: E501
]

# --- [c2sp] spec examples (keys unpublished, so parse-only) ---
C2SP_NOTE = (  # c2sp.org/signed-note
    "Ognuno sta solo sul cuor della terra\n"
    "trafitto da un raggio di sole:\n"
    "\n"
    "ed è subito sera.\n"
    "\n"
    "— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n"  # noqa: E501
)
C2SP_COSIGNED = (  # c2sp.org/tlog-cosignature
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"  # noqa: E501
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"  # noqa: E501
)


def _peter() -> tuple[NoteKey, Ed25519PrivateKey]:
    return parse_signer_key(PETER_SKEY)


def _key(seed: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)


# ---------------------------------------------------------------- golden vectors: Go note


def test_go_verifier_key() -> None:
    key = NoteKey.from_vkey(PETER_VKEY)
    assert (key.name, key.sig_type, key.key_hash.hex()) == ("PeterNeumann", ED25519, "c74f20a3")
    assert key.vkey() == PETER_VKEY
    assert NoteKey.from_vkey(ENOCH_VKEY).key_hash.hex() == "af0cfe78"


def test_go_signer_key() -> None:
    key, private = _peter()
    assert key.vkey() == PETER_VKEY
    assert signer_key("PeterNeumann", private) == PETER_SKEY


def test_go_sign_is_byte_identical() -> None:
    """[go] TestSign: Ed25519 is deterministic, so our line must equal Go's exactly."""
    _, private = _peter()
    line = sign(GO_TEXT, "PeterNeumann", private)
    assert line == PETER_SIG
    assert format_note(GO_TEXT, [line]) == GO_TEXT + "\n" + PETER_SIG


def test_go_open() -> None:
    """[go] TestOpen: one known signer, both known, none known."""
    peter, enoch = NoteKey.from_vkey(PETER_VKEY), NoteKey.from_vkey(ENOCH_VKEY)
    note = GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert open_note(note, [peter]) == (GO_TEXT, [(peter, None)])
    assert open_note(note, [peter, enoch]) == (GO_TEXT, [(peter, None), (enoch, None)])
    assert open_note(note.encode(), [enoch]) == (GO_TEXT, [(enoch, None)])
    with pytest.raises(NoteError, match="no signature from a known key"):
        open_note(note, [])
    body, sigs = parse_note(note)
    assert body == GO_TEXT
    assert [(s.name, s.key_hash.hex()) for s in sigs] == [
        ("PeterNeumann", "c74f20a3"),
        ("EnochRoot", "af0cfe78"),
    ]


def test_go_open_duplicates_and_unknown_garbage() -> None:
    """[go] TestOpen "Duplicated verified and unverified signatures": repeats are reported
    once, and a corrupted signature by an unknown key is ignored."""
    peter = NoteKey.from_vkey(PETER_VKEY)
    enoch_abcd = ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]
    note = GO_TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + enoch_abcd
    assert open_note(note, [peter]) == (GO_TEXT, [(peter, None)])


def test_go_invalid_signature_from_known_key_rejects_the_note() -> None:
    """[go] TestOpen "Invalid signature", and a known key failing next to one that passes."""
    peter, enoch = NoteKey.from_vkey(PETER_VKEY), NoteKey.from_vkey(ENOCH_VKEY)
    bad = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(NoteError, match=r"PeterNeumann\+c74f20a3"):
        open_note(GO_TEXT + "\n" + bad, [peter])
    raw = bytearray(base64.b64decode(PETER_SIG.split()[2]))
    raw[-1] ^= 1
    flipped = f"— PeterNeumann {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(NoteError, match=r"signature by PeterNeumann\+c74f20a3 does not verify"):
        open_note(GO_TEXT + "\n" + ENOCH_SIG + flipped, [peter, enoch])


@pytest.mark.parametrize(
    ("note", "message"),
    [  # [go] TestOpen badMsgs, in order
        (GO_TEXT, "no blank line"),
        (GO_TEXT + "\n", "no signature lines"),
        (GO_TEXT + "\n" + PETER_SIG[:-1], "does not end with a newline"),
        ("\x01" + GO_TEXT + "\n" + PETER_SIG, "control character U\\+0001 at offset 0"),
        (b"\xff" + (GO_TEXT + "\n" + PETER_SIG).encode(), "not valid UTF-8"),
        (GO_TEXT + "\n" + BAD_NAME_SIG, "does not end with a newline"),
        (GO_TEXT + "\n" + PETER_SIG + "Unexpected line.\n", "does not start with an em dash"),
    ],
)
def test_go_malformed_notes(note: str | bytes, message: str) -> None:
    with pytest.raises(NoteError, match=message):
        open_note(note, [NoteKey.from_vkey(PETER_VKEY)])


def test_go_too_many_signatures() -> None:
    """[go] TestOpen "too many signatures": 101 lines is over Go's limit of 100."""
    with pytest.raises(NoteError, match="101 signatures"):
        open_note(GO_TEXT + "\n" + PETER_SIG * 101, [NoteKey.from_vkey(PETER_VKEY)])
    assert MAX_SIGNATURES == 100
    assert parse_note(GO_TEXT + "\n" + PETER_SIG * 100)[0] == GO_TEXT


def _manglings(text: str) -> list[str]:
    """[go] TestNewVerifier/TestNewSigner: every proper substring, and every one-byte
    increment."""
    subs = [text[i:j] for i in range(len(text) + 1) for j in range(i + 1, len(text) + 1)]
    bumps = [text[:i] + chr(ord(text[i]) + 1) + text[i + 1 :] for i in range(len(text))]
    return [s for s in subs + bumps if s != text]


def test_go_vkey_manglings_all_fail() -> None:
    for bad in _manglings(PETER_VKEY):
        with pytest.raises(NoteError):
            NoteKey.from_vkey(bad)


def test_go_skey_manglings_all_fail() -> None:
    for bad in _manglings(PETER_SKEY):
        with pytest.raises(NoteError):
            parse_signer_key(bad)


@pytest.mark.parametrize(
    ("vkey", "message"),
    [  # [go] TestNewVerifier's two hand-made bad keys, each with an adjusted key hash
        (
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
            "not canonical base64",  # Go decodes it leniently, then rejects the length
        ),
        (
            "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "unsupported signature type 0x65",
        ),
    ],
)
def test_go_bad_vkeys(vkey: str, message: str) -> None:
    with pytest.raises(NoteError, match=message):
        NoteKey.from_vkey(vkey)


# ----------------------------------------------------- golden vectors: checkpoints in the wild


def test_sumdb_checkpoint() -> None:
    """[sumdb] A real sum.golang.org checkpoint verifies and re-serialises unchanged."""
    key = NoteKey.from_vkey(SUMDB_VKEY)
    body, signers = open_note(SUMDB_NOTE, [key])
    assert signers == [(key, None)]
    checkpoint = Checkpoint.parse(body)
    assert (checkpoint.origin, checkpoint.size) == ("go.sum database tree", 30055305)
    assert checkpoint.root == base64.b64decode("mXfgRcJ0bG0j3CPdKwgGWtUzBUbX67saZGRmFuJGGsM=")
    assert checkpoint.extensions == ()
    assert checkpoint.body() == body


def test_sigsum_log_signature() -> None:
    """[sigsum] TestCheckpointSigned: the log's signature, byte for byte."""
    body = Checkpoint(SIGSUM_ORIGIN, 10, SIGSUM_ROOT).body()
    assert body == f"{SIGSUM_ORIGIN}\n10\nHA5HAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
    line = sign(body, SIGSUM_ORIGIN, SIGSUM_KEY)
    assert line == SIGSUM_LOG_SIG
    key = NoteKey(SIGSUM_ORIGIN, SIGSUM_KEY.public_key())
    assert open_note(body + "\n" + line, [key]) == (body, [(key, None)])


def test_sigsum_cosignature_is_byte_identical() -> None:
    """[sigsum] TestCheckpointCosignVerify: cosignature/v1 at time 1234 over
    example.org/log, byte for byte. This pins the signed message format, header and time
    line included, and the 0x04 key hash."""
    checkpoint = Checkpoint("example.org/log", 10, SIGSUM_ROOT)
    line = cosign(checkpoint, "example.org/witness", SIGSUM_KEY, 1234)
    assert line == SIGSUM_COSIGS[1]
    witness = NoteKey("example.org/witness", SIGSUM_KEY.public_key(), COSIGNATURE_V1)
    assert witness.key_hash.hex() == "cacf2e50"
    assert witness.verify(checkpoint.body(), parse_note("x\n\n" + line)[1][0].signature) == 1234


def test_sigsum_cosignature_by_key() -> None:
    """[sigsum] TestCheckpointVerifyCosignatureByKey: other key ids and names are ignored,
    but a wrong-size signature under the witness's own name and key id rejects the note."""
    body = Checkpoint("example.org/log", 10, SIGSUM_ROOT).body()
    witness = NoteKey("example.org/witness", SIGSUM_KEY.public_key(), COSIGNATURE_V1)
    good = format_note(body, SIGSUM_COSIGS[:3])
    assert open_note(good, [witness]) == (body, [(witness, 1234)])
    with pytest.raises(
        NoteError, match=r"cosignature by example.org/witness\+cacf2e50 is 74 bytes"
    ):
        open_note(format_note(body, SIGSUM_COSIGS), [witness])
    # The same Ed25519 key as a plain note key has another key hash: the lines are unknown.
    with pytest.raises(NoteError, match="no signature from a known key"):
        open_note(good, [NoteKey("example.org/witness", SIGSUM_KEY.public_key())])


def test_sigsum_placeholder_signatures_parse() -> None:
    """[sigsum] testCheckpointASCII: "DEADBEEF..." decodes to key id {12, 64, 3, 4} and a
    signature starting {65, 5}; the alien and truncated lines of
    TestCheckpointVerifyIgnoreExtraSignature are malformed."""
    sig_line = "— example.org/log DEADBEEFAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"  # noqa: E501
    body = "example.org/log\n10\nHA5HAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
    _, [sig] = parse_note(body + "\n" + sig_line)
    assert sig == Signature("example.org/log", bytes([12, 64, 3, 4]), bytes([65, 5]) + bytes(62))
    assert sig.line() == sig_line
    with pytest.raises(NoteError, match="3 bytes; want a 4-byte key hash"):
        parse_note(body + "\n— example.org/log DEAD\n")
    with pytest.raises(NoteError, match="not valid base64"):
        parse_note(body + "\n— example.org/log DEADB\n")


@pytest.mark.parametrize(
    ("vkey", "sig_type", "key_hash"),
    [  # [tdev] TestCoSigV1NewVerifier "works" cases (Ed25519 only)
        ("TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6", ED25519, "7997405c"),
        (
            "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",
            COSIGNATURE_V1,
            "da77ade7",
        ),
    ],
)
def test_tdev_vkeys(vkey: str, sig_type: int, key_hash: str) -> None:
    key = NoteKey.from_vkey(vkey)
    assert (key.sig_type, key.key_hash.hex(), key.vkey()) == (sig_type, key_hash, vkey)


@pytest.mark.parametrize(
    ("vkey", "message"),
    [  # [tdev] TestCoSigV1NewVerifier failure cases
        ("bananas.sigstore.dev+12344556", "form <name>\\+<hash>\\+<key>"),
        ("rekor.sigstore.dev+12345678+THIS_IS_NOT_BASE64!", "not valid base64"),
        ("rekor.sigstore.dev+12345678+AwEB", "unsupported signature type 0x03"),
        (
            "rekor.sigstore.dev+NOT_A_NUMBER+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6",
            "not 8 hexadecimal digits",
        ),
        (
            "rekor.sigstore.dev+00000000+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6",
            "does not match the key",
        ),
    ],
)
def test_tdev_bad_vkeys(vkey: str, message: str) -> None:
    with pytest.raises(NoteError, match=message):
        NoteKey.from_vkey(vkey)


def test_tdev_cosignature_timestamp_layout() -> None:
    """[tdev] TestCoSigV1Timestamp: the 8 bytes after the key hash are the big-endian
    timestamp, 1727964367."""
    b64 = "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA=="  # noqa: E501
    _, [sig] = parse_note(f"x\n\n— w {b64}\n")
    assert sig.key_hash.hex() == "646846b9"
    assert len(sig.signature) == 72
    assert int.from_bytes(sig.signature[:8], "big") == 1727964367


def test_tdev_cosignature_covers_extension_lines() -> None:
    """[tdev] TestSigCoversExtensionLines and TestCosignatureV1RoundTrip's message: per
    c2sp.org/tlog-cosignature the whole checkpoint text is signed, extensions included."""
    private = _key(7)
    witness = NoteKey("example.com", private.public_key(), COSIGNATURE_V1)
    checkpoint = Checkpoint.parse("test\n123\nf+7CoKgXKE/tNys9TTXcr/ad6U/K3xvznmzew9y6SP0=\n")
    extended = Checkpoint(checkpoint.origin, 123, checkpoint.root, ("Extendo", "extension 2"))
    for cp in (checkpoint, extended):
        note = format_note(cp.body(), [cosign(cp, "example.com", private, 1700000000)])
        assert open_note(note, [witness]) == (cp.body(), [(witness, 1700000000)])
    note = format_note(extended.body(), [cosign(extended, "example.com", private, 1)])
    with pytest.raises(NoteError, match="does not verify"):
        open_note(note.replace("extension 2", "extension X"), [witness])
    with pytest.raises(NoteError, match="does not verify"):
        open_note(note.replace("123", "124", 1), [witness])


@pytest.mark.parametrize(
    ("body", "message"),
    [  # [tdev] log/checkpoint_test.go TestUnmarshalLogState: its invalid cases, plus its
        # "valid" ones that this stricter parser refuses (7-byte root; empty extension lines)
        ("Head\n9944\n", "2 line"),
        ("\n9944\ndGhlIHZpZXcgZnJvbSB0aGUgdHJlZSB0b3BzIGlzIGdyZWF0IQ==\n", "origin is empty"),
        ("Log\n123\nYmFuYW5hcw==", "does not end with a newline"),
        ("Log\nbananas\nYmFuYW5hcw==\n", "'bananas' is not a decimal number"),
        ("Log\n-34\nYmFuYW5hcw==\n", "'-34' is not a decimal number"),
        ("Log\n3438945738945739845734895735\nYmFuYW5hcw==\n", "exceeds 2\\^64-1"),
        ("Log\n123\nThisIsn'tBase64\n", "not valid base64"),
        ("Log\n123\nYmFuYW5hcw==\n", "root hash is 7 bytes; want 32"),
        (
            "Log\n9944\nf+7CoKgXKE/tNys9TTXcr/ad6U/K3xvznmzew9y6SP0=\n\n\n\n",
            "extension line 1 is empty",
        ),
    ],
)
def test_tdev_bad_checkpoints(body: str, message: str) -> None:
    with pytest.raises(NoteError, match=message):
        Checkpoint.parse(body)


# ------------------------------------------------------------- golden vectors: the C2SP specs


def test_c2sp_signed_note_example() -> None:
    """[c2sp] signed-note: the text may contain blank lines; the last one separates."""
    body, [sig] = parse_note(C2SP_NOTE)
    assert body == C2SP_NOTE.split("\n\n— ", maxsplit=1)[0] + "\n"
    assert body.count("\n\n") == 1
    assert sig.name == "quasimodo.example/salvatore"
    assert len(sig.signature) == 64
    with pytest.raises(NoteError, match="no signature from a known key"):
        open_note(C2SP_NOTE, [NoteKey(sig.name, _key(1).public_key())])


def test_c2sp_cosignature_example() -> None:
    """[c2sp] tlog-cosignature: the witness line carries timestamp 1679315147, the same
    time as the spec's example signed message "cosignature/v1\\ntime 1679315147\\n..."."""
    body, [log_sig, witness_sig] = parse_note(C2SP_COSIGNED)
    checkpoint = Checkpoint.parse(body)
    assert (checkpoint.origin, checkpoint.size) == ("example.com/behind-the-sofa", 20852163)
    assert checkpoint.body() == body
    assert (log_sig.name, len(log_sig.signature)) == ("example.com/behind-the-sofa", 64)
    assert witness_sig.name == "witness.example.com/w1"
    assert witness_sig.key_hash.hex() == "8d66cf3f"
    assert int.from_bytes(witness_sig.signature[:8], "big") == 1679315147


# ------------------------------------------------------------------------ round trips

_LINE_CHARS = st.characters(min_codepoint=0x20, exclude_categories=["Cs"])
_NAME_CHARS = st.characters(
    min_codepoint=0x21, exclude_categories=["Cs", "Cc", "Zs", "Zl", "Zp"], exclude_characters="+"
).filter(lambda c: not c.isspace())
names = st.text(_NAME_CHARS, min_size=1, max_size=20)
lines = st.text(_LINE_CHARS, max_size=30)
bodies = st.lists(lines, min_size=1, max_size=5).map(lambda ls: "".join(f"{x}\n" for x in ls))
checkpoints = st.builds(
    Checkpoint,
    origin=st.text(_LINE_CHARS, min_size=1, max_size=30),
    size=st.integers(0, 2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(st.text(_LINE_CHARS, min_size=1, max_size=20), max_size=3).map(tuple),
)


@given(checkpoints)
def test_checkpoint_round_trip(checkpoint: Checkpoint) -> None:
    assert Checkpoint.parse(checkpoint.body()) == checkpoint


@given(bodies, names, st.integers(0, 255))
def test_sign_open_round_trip(body: str, name: str, seed: int) -> None:
    private = _key(seed)
    key = NoteKey(name, private.public_key())
    note = format_note(body, [sign(body, name, private)])
    assert open_note(note, [key]) == (body, [(key, None)])
    assert NoteKey.from_vkey(key.vkey()) == key
    assert parse_signer_key(signer_key(name, private))[0] == key


@given(checkpoints, names, st.integers(0, 2**63 - 1))
def test_cosign_open_round_trip(checkpoint: Checkpoint, name: str, timestamp: int) -> None:
    private = _key(3)
    witness = NoteKey(name, private.public_key(), COSIGNATURE_V1)
    log = NoteKey("log.example", _key(4).public_key())
    body = checkpoint.body()
    note = format_note(
        body, [sign(body, "log.example", _key(4)), cosign(checkpoint, name, private, timestamp)]
    )
    assert open_note(note, [log, witness]) == (body, [(log, None), (witness, timestamp)])
    assert NoteKey.from_vkey(witness.vkey()) == witness


def test_signer_key_round_trip() -> None:
    private = _key(9)
    for sig_type in (ED25519, COSIGNATURE_V1):
        text = signer_key("witness.example/w1", private, sig_type)
        key, back = parse_signer_key(text)
        assert key == NoteKey("witness.example/w1", private.public_key(), sig_type)
        assert signer_key(key.name, back, sig_type) == text


def test_format_note_round_trips_parsed_signatures() -> None:
    body, sigs = parse_note(GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG)
    assert format_note(body, sigs) == GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert NoteKey.from_vkey(PETER_VKEY) in {NoteKey.from_vkey(PETER_VKEY)}  # hashable


# -------------------------------------------------------------------------- tampering


def _signed(kind: str, body: str, checkpoint: Checkpoint) -> tuple[bytes, NoteKey]:
    private = _key(5)
    if kind == "note":
        return format_note(body, [sign(body, "signer", private)]).encode(), NoteKey(
            "signer", private.public_key()
        )
    line = cosign(checkpoint, "witness", private, 1_700_000_000)
    key = NoteKey("witness", private.public_key(), COSIGNATURE_V1)
    return format_note(checkpoint.body(), [line]).encode(), key


@pytest.mark.parametrize("kind", ["note", "cosignature"])
@settings(max_examples=300)
@given(body=bodies, checkpoint=checkpoints, where=st.floats(0, 1, exclude_max=True), data=st.data())
def test_flipping_any_byte_fails_verification(
    kind: str, body: str, checkpoint: Checkpoint, where: float, data: st.DataObject
) -> None:
    """Any change to any byte, of the text, the separator, or the signature line, and the
    note no longer opens: there is no byte an attacker may touch."""
    note, key = _signed(kind, body, checkpoint)
    assert open_note(note, [key])
    index = int(where * len(note))
    mask = data.draw(st.integers(1, 255), label="mask")
    tampered = bytearray(note)
    tampered[index] ^= mask
    with pytest.raises(NoteError):
        open_note(bytes(tampered), [key])


# ------------------------------------------------------------------------ parse errors

_BODY = "hello\n"
_SIG = sign(_BODY, "n", _key(1))
_B64 = _SIG.split()[2]


@pytest.mark.parametrize(
    ("note", "message"),
    [
        ("hello\n" + _SIG, "no blank line"),
        ("hello\n\n", "no signature lines"),
        ("hello\n\n" + _SIG[:-1], "does not end with a newline"),
        ("hello\n\n— n !!!!\n", "not valid base64"),
        ("hello\n\n— n " + _B64.rstrip("=") + "\n", "not valid base64"),  # padding missing
        ("hello\n\n— n " + _B64[:-2] + chr(ord(_B64[-2]) + 1) + "=\n", "not canonical base64"),
        ("hello\n\n— n AAAA\n", "3 bytes; want a 4-byte key hash"),
        ("hello\n\n— n AAAAAA==\n", "4 bytes; want a 4-byte key hash"),
        ("hello\n\n— n \n", "signature by n is empty"),
        ("hello\n\n— n\n", "no space after the key name"),
        ("hello\n\n—  " + _B64 + "\n", "key name is empty"),
        ("hello\n\n- n " + _B64 + "\n", "does not start with an em dash"),
        ("hello\n\n—n " + _B64 + "\n", "does not start with an em dash"),
        ("hello\n\n— a+b " + _B64 + "\n", "contains '\\+'"),
        ("hello\n\n— a\u00a0b " + _B64 + "\n", "contains a space \\(U\\+00A0\\)"),
        ("hello\n\n— n " + _B64 + " extra\n", "not valid base64"),
        ("hel\tlo\n\n" + _SIG, "control character U\\+0009 at offset 3"),
        ("hello\r\n\n" + _SIG, "control character U\\+000D"),
        ("hello\n\n" + _SIG[:-1] + "\t\n", "control character U\\+0009"),
        ("hel\ud800lo\n\n" + _SIG, "not valid UTF-8"),
        (b"hel\xc3lo\n\n" + _SIG.encode(), "not valid UTF-8 \\(bad byte at offset 3\\)"),
        ("hello\n\n" + _SIG + "\n", "no signature lines"),  # a blank line after the signatures
    ],
)
def test_malformed_notes(note: str | bytes, message: str) -> None:
    with pytest.raises(NoteError, match=message):
        parse_note(note)


_ROOT = base64.b64encode(bytes(32)).decode()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (f"log\n010\n{_ROOT}\n", "'010' is not a decimal number"),
        (f"log\n00\n{_ROOT}\n", "'00' is not a decimal number"),
        (f"log\n+10\n{_ROOT}\n", "'\\+10' is not a decimal number"),
        (f"log\n 10\n{_ROOT}\n", "is not a decimal number"),
        (f"log\n10 \n{_ROOT}\n", "is not a decimal number"),
        (f"log\n1_0\n{_ROOT}\n", "is not a decimal number"),
        (f"log\n\u0661\u0660\n{_ROOT}\n", "is not a decimal number"),  # Arabic-Indic digits
        (f"log\n\n{_ROOT}\n", "'' is not a decimal number"),
        (f"log\n18446744073709551616\n{_ROOT}\n", "exceeds 2\\^64-1"),
        (f"log\n1\n{base64.b64encode(bytes(31)).decode()}\n", "31 bytes; want 32"),
        (f"log\n1\n{base64.b64encode(bytes(33)).decode()}\n", "33 bytes; want 32"),
        ("log\n1\n\n", "0 bytes; want 32"),
        (f"log\n1\n{_ROOT[:-2]}B=\n", "not canonical base64"),
        (f"log\n1\n{_ROOT.rstrip('=')}\n", "not valid base64"),
        (f"log\n1\n{_ROOT}", "does not end with a newline"),
        (f"log\n1\n{_ROOT}\next\n\n", "extension line 2 is empty"),
        (f"log\n1\n{_ROOT}\nex\tt\n", "control character U\\+0009"),
        ("log\n1\n", "2 line"),
        ("", "does not end with a newline"),
    ],
)
def test_malformed_checkpoints(body: str, message: str) -> None:
    with pytest.raises(NoteError, match=message):
        Checkpoint.parse(body)


def test_checkpoint_size_bounds() -> None:
    assert Checkpoint.parse(f"log\n0\n{_ROOT}\n").size == 0
    assert Checkpoint.parse(f"log\n18446744073709551615\n{_ROOT}\n").size == 2**64 - 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"origin": ""}, "origin is empty"),
        ({"origin": "a\nb"}, "origin contains a newline"),
        ({"origin": "a\tb"}, "control character"),
        ({"size": -1}, "outside 0..2\\^64-1"),
        ({"size": 2**64}, "outside 0..2\\^64-1"),
        ({"size": True}, "not an integer"),
        ({"root": bytes(31)}, "31 bytes; want 32"),
        ({"extensions": ("",)}, "extension line 1 is empty"),
        ({"extensions": ("a\nb",)}, "extension line 1 contains a newline"),
        ({"extensions": ["a"]}, "must be a tuple"),
    ],
)
def test_invalid_checkpoint_fields(kwargs: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"origin": "log", "size": 1, "root": bytes(32), **kwargs}
    with pytest.raises(NoteError, match=message):
        Checkpoint(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("vkey", "message"),
    [
        ("PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "not 8 hex"),
        ("PeterNeumann+c74f20a3a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "not 8 hex"),
        ("PeterNeumann+0xc74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "not 8 hex"),
        ("PeterNeumann+c74f20a3+", "material is empty"),
        ("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key name is empty"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "a space"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T", "base64"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy1w==", "30 bytes; want 32"),
    ],
)
def test_malformed_vkeys(vkey: str, message: str) -> None:
    with pytest.raises(NoteError, match=message):
        NoteKey.from_vkey(vkey)


def test_uppercase_vkey_hash_is_accepted_like_go() -> None:
    """Go parses the hash with strconv.ParseUint(_, 16, 32), so case does not matter."""
    upper = PETER_VKEY.replace("c74f20a3", "C74F20A3")
    assert NoteKey.from_vkey(upper).vkey() == PETER_VKEY


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("PRIVATE+KEY+PeterNeumann+c74f20a3", "form PRIVATE\\+KEY"),
        (PETER_SKEY.replace("PRIVATE", "PUBLIC"), "does not start with PRIVATE\\+KEY\\+"),
        (PETER_SKEY.replace("c74f20a3", "c74f20a4"), "does not match the key"),
        (PETER_SKEY.replace("+AY", "+BY"), "unsupported signature type 0x05"),
    ],
)
def test_malformed_signer_keys(text: str, message: str) -> None:
    with pytest.raises(NoteError, match=message):
        parse_signer_key(text)


def test_key_and_signature_construction_errors() -> None:
    public = _key(1).public_key()
    with pytest.raises(NoteError, match="unsupported signature type 0x02"):
        NoteKey("n", public, 0x02)
    with pytest.raises(NoteError, match="key name is empty"):
        NoteKey("", public)
    with pytest.raises(NoteError, match="key hash is 3 bytes; want 4"):
        Signature("n", b"abc", b"sig")
    with pytest.raises(NoteError, match="signature by n is empty"):
        Signature("n", b"abcd", b"")


def test_sign_and_format_errors() -> None:
    private = _key(1)
    with pytest.raises(NoteError, match="does not end with a newline"):
        sign("hello", "n", private)
    with pytest.raises(NoteError, match="contains '\\+'"):
        sign("hello\n", "a+b", private)
    with pytest.raises(NoteError, match="at least one signature"):
        format_note("hello\n", [])
    with pytest.raises(NoteError, match="not one line ending in a newline"):
        format_note("hello\n", [_SIG[:-1]])
    with pytest.raises(NoteError, match="not one line ending in a newline"):
        format_note("hello\n", [_SIG + _SIG])
    with pytest.raises(NoteError, match="101 signatures"):
        format_note("hello\n", [_SIG] * 101)


@pytest.mark.parametrize("timestamp", [-1, 2**63, True, 1.5])
def test_cosign_rejects_bad_timestamps(timestamp: object) -> None:
    checkpoint = Checkpoint("log", 1, bytes(32))
    with pytest.raises(NoteError, match="timestamp"):
        cosign(checkpoint, "w", _key(1), timestamp)  # type: ignore[arg-type]


def test_cosignature_verification_edge_cases() -> None:
    private = _key(2)
    witness = NoteKey("w", private.public_key(), COSIGNATURE_V1)
    body = Checkpoint("log", 1, bytes(32)).body()
    # A validly signed timestamp of 2^63 is still out of range.
    big = 2**63
    message = f"cosignature/v1\ntime {big}\n{body}".encode()
    with pytest.raises(NoteError, match="above 2\\^63-1"):
        witness.verify(body, big.to_bytes(8, "big") + private.sign(message))
    # A cosignature over text that is not a checkpoint means nothing, however well signed.
    message = b"cosignature/v1\ntime 5\nhello\n"
    with pytest.raises(NoteError, match="checkpoint has 1 line"):
        witness.verify("hello\n", (5).to_bytes(8, "big") + private.sign(message))
    # A plain signature by the same Ed25519 key is not a cosignature, and vice versa.
    plain = NoteKey("w", private.public_key())
    assert plain.key_hash != witness.key_hash
    with pytest.raises(NoteError, match="is 64 bytes; want 72"):
        witness.verify(body, private.sign(body.encode()))
    with pytest.raises(NoteError, match="is 72 bytes; want 64"):
        plain.verify(body, (5).to_bytes(8, "big") + private.sign(body.encode()))


def test_open_note_rejects_ambiguous_known_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two trusted keys that collide on (name, key hash) would make a signature's key
    ambiguous; that is a configuration error, not something to guess around. (A real
    4-byte collision is costly to find, so the hash is forced here.)"""
    a, b = NoteKey("n", _key(1).public_key()), NoteKey("n", _key(2).public_key())
    note = format_note("hello\n", [sign("hello\n", "n", _key(1))])
    assert open_note(note, [a, a]) == ("hello\n", [(a, None)])  # a repeat is not ambiguous
    monkeypatch.setattr(NoteKey, "key_hash", property(lambda self: b"\0\0\0\0"))
    with pytest.raises(NoteError, match="two different known keys share"):
        open_note(note, [a, b])
