"""TLS served by the central itself (--tls-cert/--tls-key), verified by a kiosk's client
against a CA file: a CA made here signs a server certificate for 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import ipaddress
import subprocess
import sys
from pathlib import Path

import pytest
from central_helpers import K1, KIOSKS, ROOT, heartbeat_body, make_tx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from central.errors import ConfigError
from central.server import CentralServer
from uplink.client import CentralClient, TransportError


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_pki(folder: Path, host: str = "127.0.0.1") -> dict[str, Path]:
    """A CA certificate, and a server certificate and key for ``host`` that it signed."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("test province CA"))
          .issuer_name(_name("test province CA")).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(hours=1))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                       crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False,
                                       decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("kiosk-central"))
            .issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    files = {"ca": folder / "ca.pem", "cert": folder / "central.pem",
             "key": folder / "central.key"}
    files["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files["key"].write_bytes(_pem(key))
    files["key"].chmod(0o600)
    return files


def _folder(parent: Path, name: str) -> Path:
    (parent / name).mkdir()
    return parent / name


@pytest.fixture
def pki(tmp_path) -> dict[str, Path]:
    return make_pki(tmp_path)


@pytest.fixture
def token_file(tmp_path) -> Path:
    path = tmp_path / "central.token"
    path.write_text(KIOSKS[K1]["token"] + "\n")
    path.chmod(0o600)
    return path


def test_a_kiosk_that_trusts_the_ca_uploads_over_https(tmp_path, pki, token_file):
    with CentralServer(tmp_path / "c.db", kiosks=KIOSKS, tls_cert=pki["cert"],
                       tls_key=pki["key"]) as srv:
        assert srv.url.startswith("https://127.0.0.1:")
        with CentralClient(srv.url, K1, token_file, ca_file=pki["ca"]) as kiosk:
            answer = kiosk.post_transactions([make_tx()])
            assert answer.status == 200
            assert answer.json()["results"][0]["status"] == "accepted"
            assert kiosk.post_heartbeat(heartbeat_body(K1)).status == 204
        assert srv.store.transactions_count() == 1


def test_a_kiosk_without_the_ca_refuses_the_certificate(tmp_path, pki, token_file):
    other = make_pki(_folder(tmp_path, "other"))
    with CentralServer(tmp_path / "c.db", kiosks=KIOSKS, tls_cert=pki["cert"],
                       tls_key=pki["key"]) as srv:
        for ca_file in (None, other["ca"]):  # the system store, another CA
            with CentralClient(srv.url, K1, token_file, ca_file=ca_file, connect_timeout=2,
                               read_timeout=2) as kiosk, \
                    pytest.raises(TransportError, match="^TLS error"):
                kiosk.post_transactions([make_tx()])
        assert srv.store.transactions_count() == 0


def test_a_certificate_for_another_address_is_refused(tmp_path, token_file):
    wrong = make_pki(tmp_path, host="127.0.0.2")
    with CentralServer(tmp_path / "c.db", kiosks=KIOSKS, tls_cert=wrong["cert"],
                       tls_key=wrong["key"]) as srv:
        with CentralClient(srv.url, K1, token_file, ca_file=wrong["ca"], connect_timeout=2,
                           read_timeout=2) as kiosk, \
                pytest.raises(TransportError, match="^TLS error"):
            kiosk.post_heartbeat(heartbeat_body(K1))


def test_unusable_tls_files_are_a_config_error(tmp_path, pki):
    with pytest.raises(ConfigError, match="no such TLS file"):
        CentralServer(tmp_path / "c.db", kiosks=KIOSKS, tls_cert=tmp_path / "none.pem",
                      tls_key=pki["key"]).start()
    with pytest.raises(ConfigError, match="cannot serve"):  # the key of another certificate
        other = make_pki(_folder(tmp_path, "other"))
        CentralServer(tmp_path / "c.db", kiosks=KIOSKS, tls_cert=pki["cert"],
                      tls_key=other["key"]).start()
    with pytest.raises(ConfigError, match="both"):
        CentralServer(tmp_path / "c.db", kiosks=KIOSKS, tls_cert=pki["cert"])


def test_kiosk_central_serve_with_tls_says_so(tmp_path, pki):
    kiosks = tmp_path / "kiosks.toml"
    kiosks.write_text(f'[kiosks.{K1}]\ntoken = "{KIOSKS[K1]["token"]}"\n')
    kiosks.chmod(0o600)
    proc = subprocess.Popen(
        [sys.executable, "-m", "central", "serve", "--db", str(tmp_path / "c.db"),
         "--port", "0", "--kiosks", str(kiosks), "--tls-cert", str(pki["cert"]),
         "--tls-key", str(pki["key"])], cwd=ROOT, stdout=subprocess.PIPE, text=True,
        stderr=subprocess.PIPE)
    try:
        line = proc.stdout.readline()
        assert line.startswith("kiosk-central: listening on https://127.0.0.1:")
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "TLS-terminating proxy" not in err


def test_kiosk_central_serve_without_tls_asks_for_a_proxy(tmp_path):
    kiosks = tmp_path / "kiosks.toml"
    kiosks.write_text(f'[kiosks.{K1}]\ntoken = "{KIOSKS[K1]["token"]}"\n')
    kiosks.chmod(0o600)
    proc = subprocess.Popen(
        [sys.executable, "-m", "central", "serve", "--db", str(tmp_path / "c.db"),
         "--port", "0", "--kiosks", str(kiosks)], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().startswith("kiosk-central: listening on http://")
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "a TLS-terminating proxy must stand in front of real kiosks" in err
