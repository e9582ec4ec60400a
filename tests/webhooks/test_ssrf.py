"""Which URLs a webhook may call (pure, with a fake resolver), and pinned connections."""
from __future__ import annotations

import pytest

from webhooks import ssrf
from webhooks.delivery import http_post


def resolver_for(*addresses):
    def resolve(host, port):
        return list(addresses)
    return resolve


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.9.10", "10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.254", "192.168.1.1",
    "169.254.169.254", "100.64.0.1", "::1", "fc00::1", "fd12:3456::1", "fe80::1", "::ffff:127.0.0.1",
    "::ffff:10.0.0.1", "::ffff:169.254.169.254", "2002:7f00:1::1", "64:ff9b::7f00:1",
])
def test_private_loopback_and_link_local_addresses_are_refused(address):
    with pytest.raises(ssrf.UnsafeUrl, match="refused"):
        ssrf.check("https://hooks.example.org/x", resolver=resolver_for(address))


@pytest.mark.parametrize("address", ["0.0.0.0", "::", "224.0.0.1", "ff02::1", "240.0.0.1", "255.255.255.255"])
def test_unspecified_multicast_and_reserved_addresses_are_refused_even_when_allowed(address):
    with pytest.raises(ssrf.UnsafeUrl):
        ssrf.check("https://hooks.example.org/x", allow_private=True, resolver=resolver_for(address))


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "192.168.0.10", "::1", "fd00::5", "169.254.1.1"])
def test_an_admin_allowance_lets_private_addresses_through(address):
    target = ssrf.check("http://receiver.internal:8080/hook?a=1", allow_private=True,
                        resolver=resolver_for(address))
    assert (target.host, target.port, target.path, target.addresses) == \
        ("receiver.internal", 8080, "/hook?a=1", (address,))


def test_a_public_address_is_accepted():
    target = ssrf.check("https://hooks.example.org", resolver=resolver_for("93.184.216.34", "2606:2800:220:1::1"))
    assert target.scheme == "https" and target.port == 443 and target.path == "/"


def test_one_private_address_among_public_ones_refuses_the_host():
    with pytest.raises(ssrf.UnsafeUrl, match="10.0.0.7"):
        ssrf.check("https://hooks.example.org", resolver=resolver_for("93.184.216.34", "10.0.0.7"))


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "http://[::1]:8000/", "http://[::ffff:127.0.0.1]/",
                                 "http://localhost:5000/hook", "http://2130706433/", "http://0x7f.1/"])
def test_literal_and_named_loopback_urls_are_refused_with_the_real_resolver(url):
    with pytest.raises(ssrf.UnsafeUrl):
        ssrf.check(url)


def test_a_hostname_resolving_to_loopback_is_refused():
    with pytest.raises(ssrf.UnsafeUrl, match="127.0.0.1 is a loopback address"):
        ssrf.check("https://innocent.example.org/hook", resolver=resolver_for("127.0.0.1"))


@pytest.mark.parametrize("url", ["ftp://example.org/", "file:///etc/passwd", "gopher://example.org/",
                                 "javascript:alert(1)", "example.org/hook", "https://", "http://:80/",
                                 "https://user:pass@example.org/", "http://example.org:99999/"])
def test_other_schemes_credentials_and_broken_urls_are_refused(url):
    with pytest.raises(ssrf.UnsafeUrl):
        ssrf.check(url, resolver=resolver_for("93.184.216.34"))


def test_a_host_that_does_not_resolve_is_refused():
    def fails(host, port):
        raise OSError("Name or service not known")
    with pytest.raises(ssrf.UnsafeUrl, match="could not be found"):
        ssrf.check("https://nowhere.invalid/", resolver=fails)


def test_the_post_connects_to_the_checked_address_and_never_resolves_again(receiver):
    """DNS rebinding: the connection goes to the address that was checked, while Host
    still names the URL's host (which here does not even resolve)."""
    target = ssrf.Target(url="http://rebinding.invalid/hook", scheme="http", host="rebinding.invalid",
                         port=receiver.port, path="/hook", addresses=("127.0.0.1",))
    assert http_post(target, b"{}", {"Content-Type": "application/json"}, 5) == 200
    [request] = receiver.requests
    assert request.path == "/hook"
    assert request.headers["Host"] == f"rebinding.invalid:{receiver.port}"


def test_https_checks_the_certificate_against_the_urls_host_not_the_address(tmp_path):
    """Dialling the checked address must not switch TLS verification off: a certificate
    that is not trusted (here self-signed) is refused."""
    import shutil
    import ssl
    import subprocess
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=hooks.example.org"], check=True, capture_output=True)
    server = HTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    target = ssrf.Target(url="https://hooks.example.org/", scheme="https", host="hooks.example.org",
                         port=server.server_address[1], path="/", addresses=("127.0.0.1",))
    try:
        with pytest.raises(ssl.SSLCertVerificationError):
            http_post(target, b"{}", {}, 5)
    finally:
        thread.join(5)
        server.server_close()
