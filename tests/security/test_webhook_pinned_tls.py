"""Pinning the checked address keeps TLS whole: SNI and the certificate check use the URL's name.

A TLS receiver on loopback, with a certificate for ``hooks.test`` from a CA of the test's own;
the stub resolver says ``hooks.test`` is 127.0.0.1 (the allow-list lets it through) and no real
DNS knows the name, so a delivery that arrives went to the checked address.
"""

from __future__ import annotations

import datetime as dt
import functools
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from services.notifications.channels import pinned
from services.notifications.channels.base import RetryLater, Sent
from services.notifications.channels.webhook import WebhookChannel, generate_secret
from services.notifications.webhook_targets import Policy

pytestmark = pytest.mark.integration


def _cert(subject: str, issuer_key, issuer_name, key, ca: bool, names=()):  # noqa: ANN001, ANN202
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer_name or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def tls_receiver(tmp_path_factory):
    """An HTTPS server on 127.0.0.1 with a certificate for hooks.test; yields (port, CA file, SNI names seen)."""
    directory = tmp_path_factory.mktemp("tls")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("lianxin test CA", ca_key, None, ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = _cert("hooks.test", ca_key, ca.subject, key, ca=False, names=[x509.DNSName("hooks.test")])
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (directory / "leaf.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (directory / "leaf.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "leaf.pem", directory / "leaf.key")
    names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)

    @Request.application
    def app(request: Request) -> Response:
        return Response(request.host, status=204)

    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=context)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield server.server_port, str(directory / "ca.pem"), names
    server.shutdown()


def channel(ca_file: str, name: str) -> WebhookChannel:
    targets = Policy.from_text(name, lambda host, port: ["127.0.0.1"])
    return WebhookChannel(timeout=5, targets=targets, transport=functools.partial(pinned.post, verify=ca_file))


def test_https_to_the_pinned_address_sends_sni_and_checks_the_certificate_for_the_name(tls_receiver):
    port, ca_file, names = tls_receiver
    result = channel(ca_file, "hooks.test").deliver(f"https://hooks.test:{port}/x", generate_secret(), "m", "t", {})
    assert result == Sent("m")
    assert names[-1] == "hooks.test"


def test_a_certificate_for_another_name_fails_as_connection_failed(tls_receiver):
    port, ca_file, _ = tls_receiver
    result = channel(ca_file, "other.test").deliver(f"https://other.test:{port}/x", generate_secret(), "m", "t", {})
    assert result == RetryLater("connection failed")


def test_the_address_itself_is_not_what_the_certificate_names(tls_receiver):
    """Connecting to 127.0.0.1 by its address must not pass a certificate made for hooks.test."""
    port, ca_file, _ = tls_receiver
    result = channel(ca_file, "127.0.0.1").deliver(f"https://127.0.0.1:{port}/x", generate_secret(), "m", "t", {})
    assert result == RetryLater("connection failed")
