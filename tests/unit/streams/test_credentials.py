"""broker.security in the shapes faust and aiokafka take (the worker, the notary's reader)."""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path

import faust
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hub.config import SecuritySettings
from hub.streams.credentials import aiokafka_kwargs, faust_credentials


def _client_cert(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "leadhub-test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "client.pem", tmp_path / "client.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def test_plaintext_needs_nothing() -> None:
    s = SecuritySettings()
    assert faust_credentials(s) is None
    assert aiokafka_kwargs(s, "leadhub") == {
        "security_protocol": "PLAINTEXT",
        "client_id": "leadhub",
    }


def test_scram_over_tls_carries_the_user_and_a_verifying_context() -> None:
    s = SecuritySettings.model_validate(
        {
            "protocol": "SASL_SSL",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_username": "hub",
            "sasl_password": "not-a-real-secret",
        }
    )
    creds = faust_credentials(s)
    assert isinstance(creds, faust.SASLCredentials)
    assert (creds.username, creds.password, creds.mechanism.value) == (
        "hub",
        "not-a-real-secret",
        "SCRAM-SHA-512",
    )
    assert creds.ssl_context.verify_mode is ssl.CERT_REQUIRED
    kwargs = aiokafka_kwargs(s, "leadhub")
    assert kwargs["sasl_plain_password"] == "not-a-real-secret"
    assert kwargs["ssl_context"].check_hostname


def test_mtls_loads_the_client_certificate(tmp_path: Path) -> None:
    cert, key = _client_cert(tmp_path)
    s = SecuritySettings(protocol="SSL", ssl_certfile=cert, ssl_keyfile=key)
    creds = faust_credentials(s)
    assert isinstance(creds, faust.SSLCredentials)
    assert aiokafka_kwargs(s, "x")["security_protocol"] == "SSL"
