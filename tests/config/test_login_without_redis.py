"""Login while Redis is unreachable (issue 23): the lockout counts in the database instead of
answering 500, and the form and the token endpoint still agree."""

import logging
import socket

import pytest
from django.test import override_settings

import config.lockout
from organizations.models import LoginFailure
from tests.marketplace.factories import UserFactory

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as s:  # bound then released: nothing listens there
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_down():
    location = f"redis://127.0.0.1:{_closed_port()}/0"
    caches = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location,
                          "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    with override_settings(CACHES=caches):
        config.lockout._cache_down_until = 0.0
        yield
    config.lockout._cache_down_until = 0.0  # the next tests use their own (working) cache at once


def test_the_login_form_works_while_redis_is_down(client, redis_down, caplog):
    UserFactory(username="mei")
    with caplog.at_level(logging.WARNING, logger="config.lockout"):
        wrong = client.post("/login/", {"username": "mei", "password": "wrong"})
    assert wrong.status_code == 200 and "correct username and password" in wrong.content.decode()
    assert "cache is unreachable" in caplog.text
    right = client.post("/login/", {"username": "mei", "password": "kitstreet"})
    assert right.status_code == 302
    assert not LoginFailure.objects.exists()  # a good login clears the count


def test_the_lockout_still_holds_during_the_outage_on_both_paths(client, api_client, redis_down):
    UserFactory(username="jun")
    for _ in range(3):
        assert client.post("/login/", {"username": "jun", "password": "wrong"}).status_code == 200
    for _ in range(2):
        assert api_client.post("/api/v1/auth/token/", {"username": "jun", "password": "wrong"}, format="json").status_code == 400
    assert LoginFailure.objects.count() == 5
    locked_form = client.post("/login/", {"username": "jun", "password": "kitstreet"})
    assert locked_form.status_code == 429 and int(locked_form["Retry-After"]) > 0
    locked_api = api_client.post("/api/v1/auth/token/", {"username": "JUN", "password": "kitstreet"}, format="json")
    assert locked_api.status_code == 429 and "Too many failed login attempts" in locked_api.json()["detail"]


def test_the_token_endpoint_answers_while_redis_is_down(api_client, redis_down):
    UserFactory(username="li")
    response = api_client.post("/api/v1/auth/token/", {"username": "li", "password": "kitstreet"}, format="json")
    assert response.status_code == 200 and response.json()["token"]


def test_old_failures_in_the_database_are_pruned_and_do_not_count(api_client, redis_down, settings):
    UserFactory(username="ada")
    LoginFailure.objects.bulk_create([LoginFailure(key=config.lockout._digest("ada"), at=1.0) for _ in range(9)])
    assert api_client.post("/api/v1/auth/token/", {"username": "ada", "password": "wrong"}, format="json").status_code == 400
    assert LoginFailure.objects.count() == 1
    assert api_client.post("/api/v1/auth/token/", {"username": "ada", "password": "kitstreet"}, format="json").status_code == 200
