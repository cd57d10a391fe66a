"""The trusted-proxy rule (apps/core/client_ip.py): the right-most X-Forwarded-For address
that is not a trusted proxy, and the header only when the socket peer is a trusted proxy."""

from __future__ import annotations

import pytest

from apps.core.client_ip import client_ip_resolve
from config.env import EnvError, env_ip_networks

PROXIES = ("10.0.0.0/24", "fd00::/64")


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "trusted", "expected"),
    [
        # Nobody trusted (the default): the header is never read.
        ("203.0.113.9", "1.2.3.4", (), "203.0.113.9"),
        ("203.0.113.9", None, (), "203.0.113.9"),
        # An untrusted peer cannot choose its address, even with proxies configured.
        ("203.0.113.9", "10.0.0.5, 1.2.3.4", PROXIES, "203.0.113.9"),
        # nginx overwrites: the header is the client it saw.
        ("10.0.0.2", "198.51.100.7", PROXIES, "198.51.100.7"),
        # An appending proxy: the forged left part is ignored, the proxy-appended address wins.
        ("10.0.0.2", "1.2.3.4, 6.6.6.6, 198.51.100.7", PROXIES, "198.51.100.7"),
        # Two trusted hops: skip every trusted address from the right.
        ("10.0.0.2", "1.2.3.4, 198.51.100.7, 10.0.0.3", PROXIES, "198.51.100.7"),
        # Every hop trusted: the furthest one is the client (an internal caller).
        ("10.0.0.2", "10.0.0.8, 10.0.0.3", PROXIES, "10.0.0.8"),
        # Trusted peer without a header: the peer.
        ("10.0.0.2", None, PROXIES, "10.0.0.2"),
        ("10.0.0.2", "", PROXIES, "10.0.0.2"),
        # Garbage where a proxy should have written: nothing left of it is believed.
        ("10.0.0.2", "198.51.100.7, not-an-ip, 10.0.0.3", PROXIES, "10.0.0.3"),
        ("10.0.0.2", "198.51.100.7:4444", PROXIES, "10.0.0.2"),
        # IPv6, and IPv4-mapped IPv6 addresses compared as IPv4.
        ("fd00::1", "2001:db8::5", PROXIES, "2001:db8::5"),
        ("::ffff:10.0.0.2", "::ffff:198.51.100.7", PROXIES, "198.51.100.7"),
        ("10.0.0.2", "2001:db8::5, fd00::9", PROXIES, "2001:db8::5"),
        # A single trusted address, not a network.
        ("127.0.0.1", "198.51.100.7", ("127.0.0.1",), "198.51.100.7"),
    ],
)
def test_client_ip_resolve(peer, forwarded_for, trusted, expected):
    assert client_ip_resolve(peer=peer, forwarded_for=forwarded_for, trusted=trusted) == expected


@pytest.mark.parametrize("peer", [None, "", "unix-socket", "localhost"])
def test_no_ip_peer_means_no_client_ip(peer):
    assert client_ip_resolve(peer=peer, forwarded_for="198.51.100.7", trusted=("0.0.0.0/0",)) is None


def test_trusted_proxies_env_is_checked(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8, 172.30.0.1,::1")
    assert env_ip_networks("TRUSTED_PROXIES") == ["10.0.0.0/8", "172.30.0.1", "::1"]
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8,nginx")
    with pytest.raises(EnvError, match="TRUSTED_PROXIES.*'nginx'"):
        env_ip_networks("TRUSTED_PROXIES")
    monkeypatch.delenv("TRUSTED_PROXIES")
    assert env_ip_networks("TRUSTED_PROXIES") == []
