"""Webhook receivers: IPv6 spellings of private IPv4 addresses are refused at registration and at
delivery, and a delivery connects to the address that was checked (issue 23)."""

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from unittest import mock

import pytest

from config.webhooks import WebhookAddressRefused, webhook_post, webhook_target_addresses, webhook_url_problem

pytestmark = pytest.mark.django_db

LOOPBACK_IN_DISGUISE = [
    "https://[64:ff9b::7f00:1]/",          # NAT64 well-known prefix -> 127.0.0.1
    "https://[2002:7f00:1::]/",            # 6to4 -> 127.0.0.1
    "https://[::127.0.0.1]/",              # IPv4-compatible -> 127.0.0.1
    "https://[::ffff:127.0.0.1]/",         # IPv4-mapped
    "https://[::ffff:a9fe:a9fe]/",         # mapped metadata service 169.254.169.254
    "https://[64:ff9b::a9fe:a9fe]/",       # NAT64 metadata service
    "https://[2002:a00:1::]/hook",         # 6to4 -> 10.0.0.1
    "https://[64:ff9b:1::808:808]/",       # local-use NAT64, whatever it embeds
    "https://[2001:0:808:808::80ff:fffe]/",  # Teredo (client 127.0.0.1)
    "https://[::8.8.8.8]/",                # IPv4-compatible, even of a public address
]


@pytest.mark.parametrize("url", LOOPBACK_IN_DISGUISE)
def test_ipv6_forms_embedding_ipv4_are_refused(url):
    problem = webhook_url_problem(url)
    assert problem and "public addresses only" in problem


@pytest.mark.parametrize("url", ["https://[64:ff9b::7f00:1]/", "https://[2002:7f00:1::]/", "https://[::127.0.0.1]/"])
def test_the_audit_spellings_are_a_400_on_both_webhook_apis(buyer, url):
    for path in ("/api/v1/trials/webhooks/", "/api/v1/market-webhooks/"):
        response = buyer.client.post(path, {"url": url}, format="json")
        assert response.status_code == 400, response.content
        assert "public addresses only" in response.json()["url"][0]


@pytest.mark.parametrize("url", ["https://[64:ff9b::808:808]/", "https://[2002:808:808::]/", "https://[2606:4700::1111]/"])
def test_public_addresses_behind_nat64_and_6to4_are_accepted(url):
    assert webhook_url_problem(url) is None


def test_a_name_resolving_to_a_disguised_loopback_is_refused_at_delivery():
    with mock.patch("config.webhooks._resolve", return_value=["64:ff9b::7f00:1"]), \
            mock.patch("requests.Session.post") as post:
        status, error = webhook_post(url="https://hook.example.test/", secret="s", event="e", event_id="1", payload={})
    assert status is None and error.startswith("Refused") and not post.called


def test_allowed_networks_apply_to_the_unwrapped_address(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert webhook_target_addresses("https://[2002:a00:1::]/") == ["2002:a00:1::"]
    with pytest.raises(WebhookAddressRefused):
        webhook_target_addresses("https://[2002:7f00:1::]/")


class _Receiver(BaseHTTPRequestHandler):
    seen: list = []

    def do_POST(self):
        _Receiver.seen.append(self.headers["Host"])
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_delivery_connects_to_the_checked_address_and_resolves_once(settings):
    """The name is resolved once, checked, and the connection goes to that address (the name does
    not exist in real DNS: had the client looked it up again, the POST could not have arrived)."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    _Receiver.seen = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://receiver.invalid:{server.server_port}/hook"
        with mock.patch("config.webhooks._resolve", return_value=["127.0.0.1"]) as resolve:
            status, error = webhook_post(url=url, secret="s", event="e", event_id="1", payload={})
    finally:
        server.shutdown()
    assert (status, error) == (204, "")
    assert resolve.call_count == 1
    assert _Receiver.seen == [f"receiver.invalid:{server.server_port}"]
