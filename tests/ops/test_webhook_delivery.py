"""Webhook SSRF (issue 18, finding 6): names resolved and checked, the connection pinned to the
checked address, no redirects, and a trader's webhook signed with their own secret.

The machine is offline, so the resolver is injected (nip.io-style answers); a local TLS
receiver stands in for the public host, reached through the pinned address."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import http.server
import json
import ssl
import threading

import pytest
import urllib3.util.connection
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from apps.core.exceptions import ApplicationError
from apps.ops import webhook_delivery
from apps.ops.alerting import SIGNATURE_HEADER, TIMESTAMP_HEADER, alert_deliver
from apps.ops.models import AlertNotification, AlertRule
from apps.ops.preferences import notification_preference_save, notification_webhook_secret_rotate

PUBLIC = "93.184.216.34"
DNS = {
    "127.0.0.1.nip.io": ["127.0.0.1"],
    "169.254.169.254.nip.io": ["169.254.169.254"],
    "localtest.me": ["127.0.0.1", "::1"],
    "10.0.0.1.nip.io": ["10.0.0.1"],
    "mapped.example.com": ["::ffff:127.0.0.1"],
    "mixed.example.com": [PUBLIC, "192.168.1.1"],
    "hooks.example.com": [PUBLIC],
}
SSRF_HOSTS = [h for h in DNS if h != "hooks.example.com"]


def fake_resolver(host: str, port: int) -> list[str]:
    if host not in DNS:
        raise OSError(f"no such host {host}")
    return DNS[host]


def _cert_pair(tmp_path):
    """A test CA and a certificate for hooks.example.com signed by it."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "PTP test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.example.com")]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    (tmp_path / "leaf.pem").write_bytes(
        leaf.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca.public_bytes(serialization.Encoding.PEM).decode(), tmp_path / "leaf.pem"


class _Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
        self.send_response(self.server.status)
        if self.server.status in (301, 302, 307, 308):
            self.send_header("Location", "https://hooks.example.com/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver(tmp_path, monkeypatch):
    """A TLS receiver for hooks.example.com on loopback; connections to PUBLIC:443 are routed to
    it at the socket layer, and every address urllib3 connects to is recorded."""
    ca_pem, leaf = _cert_pair(tmp_path)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.received, server.status, server.sni = [], 200, []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(leaf)
    context.sni_callback = lambda sock, name, ctx: server.sni.append(name)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.connects = []
    real = urllib3.util.connection.create_connection

    def create_connection(address, *args, **kwargs):
        server.connects.append(address)
        route = ("127.0.0.1", server.server_port) if address == (PUBLIC, 443) else address
        return real(route, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", create_connection)
    monkeypatch.setattr(webhook_delivery, "webhook_resolver", fake_resolver)
    monkeypatch.setattr(webhook_delivery, "webhook_ssl_context", ssl.create_default_context(cadata=ca_pem))
    yield server
    server.shutdown()
    server.server_close()


def _post(url, **kwargs):
    return webhook_delivery.webhook_post(
        url=url,
        body=b"{}",
        headers={},
        timeout=10,
        resolver=fake_resolver,
        ssl_context=webhook_delivery.webhook_ssl_context,
        **kwargs,
    )


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.0.1",
        "169.254.169.254",
        "224.0.0.1",
        "240.0.0.1",
        "0.0.0.0",
        "100.64.0.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::7f00:1",
    ],
)
def test_internal_addresses_are_refused(address):
    assert webhook_delivery.address_problem(address) is not None


@pytest.mark.parametrize("address", [PUBLIC, "2606:4700:4700::1111", "::ffff:93.184.216.34"])
def test_public_addresses_pass(address):
    assert webhook_delivery.address_problem(address) is None


@pytest.mark.django_db
@pytest.mark.parametrize("host", SSRF_HOSTS)
def test_ssrf_hosts_are_refused_at_save_time(host, django_user_model, monkeypatch):
    monkeypatch.setattr(webhook_delivery, "webhook_resolver", fake_resolver)
    user = django_user_model.objects.create_user("ssrf", password="x")
    with pytest.raises(ApplicationError) as caught:
        notification_preference_save(
            user=user, email_enabled=False, webhook_url=f"https://{host}/h", kinds=["bot_error"]
        )
    assert "webhook_url" in caught.value.fields


@pytest.mark.parametrize("host", SSRF_HOSTS)
def test_ssrf_hosts_are_refused_at_delivery_time(host, receiver):
    with pytest.raises(webhook_delivery.WebhookRefused):
        _post(f"https://{host}/h")
    assert receiver.connects == [] and receiver.received == []


def test_real_localhost_is_refused_at_delivery_time(receiver):
    with pytest.raises(webhook_delivery.WebhookRefused, match="loopback"):
        webhook_delivery.webhook_post(
            url=f"https://localhost:{receiver.server_port}/h",
            body=b"{}",
            headers={},
            timeout=10,
            resolver=webhook_delivery.system_resolver,
        )
    assert receiver.connects == [] and receiver.received == []


def test_the_connection_goes_to_the_pinned_address_with_the_name_for_host_sni_and_cert(receiver):
    assert _post("https://hooks.example.com/hook?x=1") == 200
    assert receiver.connects == [(PUBLIC, 443)]
    assert receiver.sni == ["hooks.example.com"]
    assert receiver.received[0]["path"] == "/hook?x=1"
    assert receiver.received[0]["headers"]["Host"] == "hooks.example.com"


def test_a_certificate_for_another_name_is_refused(receiver, monkeypatch):
    DNS_OTHER = {**DNS, "other.example.com": [PUBLIC]}
    with pytest.raises(urllib3.exceptions.SSLError):
        webhook_delivery.webhook_post(
            url="https://other.example.com/h",
            body=b"{}",
            headers={},
            timeout=10,
            resolver=lambda host, port: DNS_OTHER[host],
            ssl_context=webhook_delivery.webhook_ssl_context,
        )


@pytest.mark.django_db
def test_a_redirect_is_not_followed_and_the_delivery_fails(receiver, django_user_model):
    receiver.status = 302
    user = django_user_model.objects.create_user("redir", password="x")
    notification_preference_save(
        user=user, email_enabled=False, webhook_url="https://hooks.example.com/h", kinds=["bot_error"]
    )
    notification = _notification(user)
    delivered = alert_deliver(notification_id=notification.pk)
    assert delivered.status == AlertNotification.Status.FAILED and "302" in delivered.error
    assert len(receiver.received) == 1 and receiver.connects == [(PUBLIC, 443)]


def _notification(user):
    rule = AlertRule.objects.get(name=f"user:{user.pk}")
    return AlertNotification.objects.create(
        rule=rule,
        channel=AlertNotification.Channel.WEBHOOK,
        kind="bot_error",
        severity="error",
        dedup_key="k",
        title="bot failed",
        data={},
    )


def _signed_with(secret, received):
    headers = received["headers"]
    expected = hmac.new(
        secret.encode(), headers[TIMESTAMP_HEADER].encode() + b"." + received["body"], hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(headers[SIGNATURE_HEADER], f"sha256={expected}")


@pytest.mark.django_db
def test_user_webhooks_are_signed_with_the_users_own_secret(receiver, django_user_model, settings):
    settings.ALERT_WEBHOOK_SECRET = "operator-secret"
    user = django_user_model.objects.create_user("signer", password="x")
    saved = notification_preference_save(
        user=user, email_enabled=False, webhook_url="https://hooks.example.com/h", kinds=["bot_error"]
    )
    secret = saved.new_signing_secret
    assert secret and len(secret) == 64
    again = notification_preference_save(
        user=user, email_enabled=False, webhook_url="https://hooks.example.com/h", kinds=["bot_error"]
    )
    assert again.new_signing_secret is None  # shown once
    assert alert_deliver(notification_id=_notification(user).pk).status == AlertNotification.Status.SENT
    assert _signed_with(secret, receiver.received[-1])
    assert not _signed_with("operator-secret", receiver.received[-1])
    rotated = notification_webhook_secret_rotate(user=user)
    assert rotated != secret
    alert_deliver(notification_id=_notification(user).pk)
    assert _signed_with(rotated, receiver.received[-1]) and not _signed_with(secret, receiver.received[-1])
    assert json.loads(receiver.received[-1]["body"])["title"] == "bot failed"
