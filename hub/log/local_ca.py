"""A certificate authority of the hub's own, for the embedded broker's TLS listeners.

A secured embedded broker needs a server certificate its clients can verify, and a
client certificate of its own for the listeners that only the broker itself uses (the
controller and the inter-broker listener, which authenticate by mutual TLS). A public CA
cannot issue for 127.0.0.1, and a self-signed leaf would have to be trusted one by one;
so the hub makes a small CA once, under the broker's data directory, and issues from it.

Everything is written once and reused: a broker restarted on the same folder presents the
same certificate, so clients that trust ``ca.pem`` keep trusting it. Private keys are
unencrypted PKCS#8 in files of mode 0600 (in a 0700 folder). Not encrypted, because
Kafka 4.1 reads a PEM key *file* (``ssl.keystore.location``) only with
``ssl.key.password`` set, and then decrypts it with ``SecretKeyFactory.getInstance`` of
the algorithm's name: the PBES2 keys `cryptography` writes fail on Java 17 ("PBES2
SecretKeyFactory not available"), and the old PBES1 ciphers that would load (3DES) add
nothing when the password sits beside the key. The broker is given its key inline
(``ssl.keystore.key``, unencrypted PKCS#8 is accepted there) in a 0600 server.properties.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_NAME = "LEAD Hub local CA"
BROKER_CN = "leadhub-broker"
_VALID_DAYS = 3650  # a development CA; a real deployment brings its own PKI


@dataclass(frozen=True)
class BrokerTls:
    """The PEM files a secured broker and its clients need."""

    ca_cert: Path  # clients' trust store (ssl_cafile), the broker's trust store
    chain: Path  # the broker's certificate, then the CA's
    key: Path  # the broker's key, unencrypted PKCS#8 PEM (0600)

    @property
    def principal(self) -> str:
        """The broker's own principal on its mutual-TLS listeners (Kafka's default
        SSL principal is the certificate's distinguished name)."""
        return f"User:CN={BROKER_CN}"


def write_private(path: Path, data: bytes) -> None:
    """Create (or replace) a file that only its owner may read, without a moment in which
    it exists with wider permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _not_before() -> dt.datetime:
    # an hour back: a clock a little behind on the client side still accepts it
    return dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)


def _make_ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = _key()
    start = _not_before()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(CA_NAME))
        .issuer_name(_name(CA_NAME))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=_VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _issue(
    ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate, cn: str, hosts: list[str]
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A leaf for both ends of TLS: the broker serves with it, and presents it as a client
    to its own controller listener."""
    key = _key()
    start = _not_before()
    sans: list[x509.GeneralName] = []
    for h in hosts:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(h)))
        except ValueError:
            sans.append(x509.DNSName(h))
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=_VALID_DAYS - 1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def broker_tls(folder: Path, hosts: list[str] | None = None) -> BrokerTls:
    """The CA and the broker's certificate under ``folder``, made on first call and read
    back afterwards (a partial folder, e.g. a crash mid-write, is made anew)."""
    hosts = hosts or ["127.0.0.1", "localhost"]
    tls = BrokerTls(
        ca_cert=folder / "ca.pem", chain=folder / "broker-chain.pem", key=folder / "broker-key.pem"
    )
    done = folder / "complete"
    if done.exists():
        return tls
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    ca_key, ca_cert = _make_ca()
    key, cert = _issue(ca_key, ca_cert, BROKER_CN, hosts)
    write_private(folder / "ca-key.pem", _private_pem(ca_key))
    write_private(tls.key, _private_pem(key))
    tls.chain.write_bytes(_pem(cert) + _pem(ca_cert))
    tls.ca_cert.write_bytes(_pem(ca_cert))
    done.write_text("written once; delete this folder to make a new CA\n", encoding="utf-8")
    return tls


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
