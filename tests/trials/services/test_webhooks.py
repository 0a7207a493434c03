"""Verdict webhooks: signed with HMAC, delivered once per endpoint, retried with backoff."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from unittest import mock

import pytest
import requests

from tests.trials.factories import make_trial
from trials.models import WebhookDelivery
from trials.services import trial_run, trial_start, webhook_backoff_seconds, webhook_endpoint_create, webhook_sign

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_receivers_allowed(settings):
    """These tests' receiver listens on plain http on loopback, which production refuses
    (tests/trials/services/test_webhook_addresses.py)."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]


@pytest.fixture
def receiver():
    """A local HTTP server that records what it receives."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"headers": dict(self.headers), "body": body})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def close_a_trial(org, user, capture):
    trial = make_trial(organization=org, created_by=user)
    trial_start(trial=trial)
    with capture(execute=True):
        trial = trial_run(trial_id=trial.pk)
    return trial


def test_a_verdict_is_posted_signed_to_the_registered_url(buyer, receiver, django_capture_on_commit_callbacks):
    url, received = receiver
    endpoint = webhook_endpoint_create(organization=buyer.org, url=url)
    trial = close_a_trial(buyer.org, buyer.user, django_capture_on_commit_callbacks)

    [request] = received
    headers, body = request["headers"], request["body"]
    payload = json.loads(body)
    assert payload["event"] == "trial.verdict"
    assert payload["trial"]["id"] == trial.pk and payload["trial"]["verdict"] == trial.verdict
    assert payload["trial"]["simulated"] is True
    timestamp, signature = (part.split("=", 1)[1] for part in headers["X-Kitstreet-Signature"].split(","))
    expected = hmac.new(endpoint.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, expected)
    assert headers["X-Kitstreet-Event-Id"] == payload["id"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "delivered" and delivery.attempts == 1 and delivery.response_status == 204


def test_a_tampered_body_does_not_verify():
    signed = webhook_sign(secret="s3cret", timestamp=1700000000, body=b'{"verdict":"kill"}')
    assert signed == webhook_sign(secret="s3cret", timestamp=1700000000, body=b'{"verdict":"kill"}')
    assert signed != webhook_sign(secret="s3cret", timestamp=1700000000, body=b'{"verdict":"scale"}')
    assert signed != webhook_sign(secret="other", timestamp=1700000000, body=b'{"verdict":"kill"}')


def _response(status):
    response = requests.Response()
    response.status_code = status
    return response


@pytest.fixture
def eager_retries():
    """Eager Celery re-runs a retried task at once (no countdown) unless it propagates errors."""
    from config.celery import app

    before = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = before


def test_failures_are_retried_until_the_receiver_answers(buyer, django_capture_on_commit_callbacks, eager_retries):
    webhook_endpoint_create(organization=buyer.org, url="https://erp.example.com/hook")
    answers = [requests.ConnectionError("refused"), _response(500), _response(200)]
    with mock.patch("config.webhooks._post_pinned", side_effect=answers) as post:
        close_a_trial(buyer.org, buyer.user, django_capture_on_commit_callbacks)
    assert post.call_count == 3
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "delivered" and delivery.attempts == 3 and delivery.last_error == ""
    # The same event id on every attempt, so the receiver can de-duplicate.
    assert len({call.kwargs["headers"]["X-Kitstreet-Event-Id"] for call in post.call_args_list}) == 1


def test_delivery_gives_up_after_the_last_retry(buyer, django_capture_on_commit_callbacks, eager_retries):
    webhook_endpoint_create(organization=buyer.org, url="https://erp.example.com/hook")
    with mock.patch("config.webhooks._post_pinned", return_value=_response(503)) as post:
        close_a_trial(buyer.org, buyer.user, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert post.call_count == 7 and delivery.attempts == 7
    assert delivery.status == "failed" and delivery.last_error == "HTTP 503"


def test_backoff_doubles_from_ten_seconds(buyer, django_capture_on_commit_callbacks):
    assert [webhook_backoff_seconds(n) for n in range(4)] == [10, 20, 40, 80]
    from trials.tasks import webhook_deliver_task

    webhook_endpoint_create(organization=buyer.org, url="https://erp.example.com/hook")
    with mock.patch("config.webhooks._post_pinned", return_value=_response(500)), \
            mock.patch.object(webhook_deliver_task, "retry", side_effect=RuntimeError("retry")) as retry:
        with pytest.raises(RuntimeError):
            close_a_trial(buyer.org, buyer.user, django_capture_on_commit_callbacks)
    assert retry.call_args.kwargs["countdown"] == 10


def test_webhook_api_registers_and_removes(buyer):
    created = buyer.client.post("/api/v1/trials/webhooks/", {"url": "https://erp.example.com/hook"}, format="json")
    assert created.status_code == 201 and len(created.json()["secret"]) == 64
    assert buyer.client.post("/api/v1/trials/webhooks/", {"url": "not a url"}, format="json").status_code == 400
    assert buyer.client.get("/api/v1/trials/webhooks/").json()["count"] == 1
    assert buyer.client.delete(f"/api/v1/trials/webhooks/{created.json()['id']}/").status_code == 204
    assert buyer.client.get("/api/v1/trials/webhooks/").json()["count"] == 0
