"""The hub's local CA: made once, reused, private keys owner-only, a server certificate
that clients verifying 127.0.0.1 or localhost accept, and a foreign CA's that they refuse."""

from __future__ import annotations

import ipaddress
import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature

from hub.errors import BrokerError
from hub.log.acls import desired_acls, load_principals, scram_users
from hub.log.broker import EmbeddedBroker
from hub.log.local_ca import BROKER_CN, broker_tls
from hub.log.scram import BrokerSecurity
from tests.support.paths import DEPLOY


def test_made_once_and_reused(tmp_path: Path) -> None:
    first = broker_tls(tmp_path / "tls")
    before = {p.name: p.read_bytes() for p in (tmp_path / "tls").iterdir()}
    again = broker_tls(tmp_path / "tls")
    assert again == first
    assert {p.name: p.read_bytes() for p in (tmp_path / "tls").iterdir()} == before
    for key in ("ca-key.pem", "broker-key.pem"):
        assert stat.S_IMODE((tmp_path / "tls" / key).stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "tls").stat().st_mode) == 0o700


def test_the_broker_certificate_names_loopback_and_chains_to_the_ca(tmp_path: Path) -> None:
    tls = broker_tls(tmp_path / "tls")
    leaf, ca = x509.load_pem_x509_certificates(tls.chain.read_bytes())
    assert leaf.subject.rfc4514_string() == f"CN={BROKER_CN}"
    assert tls.principal == f"User:CN={BROKER_CN}"
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
    assert x509.load_pem_x509_certificate(tls.ca_cert.read_bytes()) == ca
    leaf.verify_directly_issued_by(ca)
    other = broker_tls(tmp_path / "other")
    foreign = x509.load_pem_x509_certificate(other.ca_cert.read_bytes())
    with pytest.raises(InvalidSignature):  # same name, another key
        leaf.verify_directly_issued_by(foreign)
    ssl.create_default_context(cafile=str(tls.ca_cert)).load_cert_chain(tls.chain, tls.key)


def test_every_principal_of_the_matrix_is_a_scram_user() -> None:
    agencies = ["bpd", "opd", "bchd", "hub"]
    users = scram_users(desired_acls(agencies, load_principals(DEPLOY / "acls.yaml")))
    assert users == ["auditor", "bchd", "bpd", "leadhub", "opd", "witness.bchd", "witness.opd"]


def test_a_user_name_that_would_break_storage_tools_syntax_is_refused(tmp_path: Path) -> None:
    broker = EmbeddedBroker(data_dir=tmp_path, security=BrokerSecurity(users=("a,b",)))
    with pytest.raises(BrokerError, match="cannot be a SCRAM user name"):
        broker.prepare_security()
    assert EmbeddedBroker(data_dir=tmp_path).client_kwargs() == {"security_protocol": "PLAINTEXT"}
