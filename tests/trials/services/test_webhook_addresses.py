"""Webhooks go to public https addresses only (SSRF): checked when registered and again when
delivered, after DNS resolution, and redirects are not followed."""

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from unittest import mock

import pytest

from tests.trials.factories import make_trial
from trials.models import WebhookDelivery
from trials.services import trial_run, trial_start, webhook_endpoint_create
from trials.services.webhooks import webhook_deliver

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", [
    "http://erp.example.com/hook",            # plain http outside local settings
    "https://127.0.0.1/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://10.1.2.3/hook",
    "https://[::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://localhost/hook",                 # a name that resolves to loopback
])
def test_registration_refuses_non_https_and_non_public_urls(buyer, url):
    response = buyer.client.post("/api/v1/trials/webhooks/", {"url": url}, format="json")
    assert response.status_code == 400, response.content
    assert "url" in response.json()


def test_a_name_resolving_to_a_private_address_is_refused(buyer):
    with mock.patch("config.webhooks._resolve", return_value=["93.184.215.14", "192.168.1.10"]):
        response = buyer.client.post("/api/v1/trials/webhooks/", {"url": "https://erp.example.com/h"}, format="json")
    assert response.status_code == 400
    assert "192.168.1.10" in response.json()["url"][0]


def test_a_public_https_url_is_accepted(buyer):
    with mock.patch("config.webhooks._resolve", return_value=["93.184.215.14"]):
        response = buyer.client.post("/api/v1/trials/webhooks/", {"url": "https://erp.example.com/h"}, format="json")
    assert response.status_code == 201, response.content


def test_local_settings_allow_http(settings, buyer):
    settings.WEBHOOK_ALLOW_HTTP = True
    with mock.patch("config.webhooks._resolve", return_value=["93.184.215.14"]):
        response = buyer.client.post("/api/v1/trials/webhooks/", {"url": "http://erp.example.com/h"}, format="json")
    assert response.status_code == 201


class _Recorder(BaseHTTPRequestHandler):
    hits: list = []

    def do_POST(self):
        _Recorder.hits.append(self.path)
        self.send_response(302)
        self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def redirecting_receiver():
    _Recorder.hits = []
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port
    server.shutdown()


def _closed_trial_delivery(buyer, capture) -> WebhookDelivery:
    trial = make_trial(organization=buyer.org, created_by=buyer.user)
    trial_start(trial=trial)
    with mock.patch("trials.tasks.webhook_deliver_task.apply_async"):  # deliver by hand below
        with capture(execute=True):
            trial_run(trial_id=trial.pk)
    return WebhookDelivery.objects.get(trial=trial)


def test_delivery_rechecks_the_address_after_dns_changed(buyer, django_capture_on_commit_callbacks):
    """Registered while the name pointed at a public address; by delivery it points at the
    metadata service (DNS rebinding): nothing is sent."""
    with mock.patch("config.webhooks._resolve", return_value=["93.184.215.14"]):
        webhook_endpoint_create(organization=buyer.org, url="https://erp.example.com/hook")
    delivery = _closed_trial_delivery(buyer, django_capture_on_commit_callbacks)
    with mock.patch("config.webhooks._resolve", return_value=["169.254.169.254"]), \
            mock.patch("requests.Session.post") as post:
        with pytest.raises(Exception):
            webhook_deliver(delivery_id=delivery.pk)
    assert not post.called
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PENDING and "non-public" in delivery.last_error


def test_redirects_are_not_followed(settings, buyer, redirecting_receiver, django_capture_on_commit_callbacks):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    webhook_endpoint_create(organization=buyer.org, url=f"http://127.0.0.1:{redirecting_receiver}/hook")
    delivery = _closed_trial_delivery(buyer, django_capture_on_commit_callbacks)
    with pytest.raises(Exception):
        webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert _Recorder.hits == ["/hook"]  # one request, the redirect not followed
    assert delivery.status == WebhookDelivery.Status.PENDING and delivery.last_error == "HTTP 302"
