"""SMTP with STARTTLS against a loopback server holding a private CA's certificate: the
password travels only inside TLS, and a server the route does not trust gets nothing."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import alerts
from tests.alerts.conftest import ENV
from tests.fakes.smtp_server import SmtpServer


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def _server_context(tls_files: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*map(str, tls_files))
    return context


def _route(port: int, ca_file: Path | None) -> alerts.SmtpRoute:
    return alerts.SmtpRoute(
        "mail",
        "127.0.0.1",
        port,
        True,
        "sanad@example.invalid",
        ("focal-point@example.invalid",),
        "ALERT_SMTP_USER",
        "ALERT_SMTP_PASSWORD",
        str(ca_file) if ca_file else None,
    )


def test_starttls_then_login_then_mail(tls_files: tuple[Path, Path]) -> None:
    send = alerts.default_senders(ENV, timeout=5)["smtp"]
    with SmtpServer(_server_context(tls_files)) as server:
        send(_route(server.port, tls_files[0]), alerts.render("new", "K7M-4QX", 1, 3, 30))
    [mail] = server.messages
    assert mail.tls and mail.login == ("alerts", "pw-1")
    assert "K7M-4QX" in mail.message().get_content()


def test_an_untrusted_server_gets_neither_password_nor_alert(tls_files: tuple[Path, Path]) -> None:
    send = alerts.default_senders(ENV, timeout=5)["smtp"]
    with SmtpServer(_server_context(tls_files)) as server:
        with pytest.raises(alerts.SendError) as err:
            send(_route(server.port, None), alerts.render("new", "K7M-4QX", 1, 3, 30))
    assert "TLS failed" in err.value.reason or "cannot connect" in err.value.reason
    assert server.messages == []
