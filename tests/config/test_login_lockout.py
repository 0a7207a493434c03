"""Brute force on passwords: the 6th wrong password for a username within 15 minutes is a 429 with
Retry-After (token endpoint and login form); after the window the right password works again."""

from unittest import mock

import pytest

from tests.marketplace.factories import UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"


def _token(client, username, password):
    return client.post(TOKEN, {"username": username, "password": password}, format="json")


def test_the_sixth_wrong_password_is_a_429_and_the_right_one_works_after_the_window(api_client):
    UserFactory(username="mei")
    with mock.patch("config.lockout.time.time", return_value=1_000_000.0):
        for _ in range(5):
            assert _token(api_client, "mei", "wrong").status_code == 400
        sixth = _token(api_client, "mei", "wrong")
        assert sixth.status_code == 429
        assert 0 < int(sixth["Retry-After"]) <= 15 * 60
        assert "Too many failed login attempts" in sixth.json()["detail"]
        # Locked means locked: the right password does not get through either (no oracle).
        assert _token(api_client, "MEI", "kitstreet").status_code == 429
    with mock.patch("config.lockout.time.time", return_value=1_000_000.0 + 15 * 60 + 1):
        assert _token(api_client, "mei", "kitstreet").status_code == 200


def test_a_successful_login_clears_earlier_failures(api_client):
    UserFactory(username="li")
    for _ in range(4):
        _token(api_client, "li", "wrong")
    assert _token(api_client, "li", "kitstreet").status_code == 200
    for _ in range(5):
        assert _token(api_client, "li", "wrong").status_code == 400
    assert _token(api_client, "li", "wrong").status_code == 429


def test_another_username_is_not_locked(api_client):
    UserFactory(username="mei")
    UserFactory(username="jun")
    for _ in range(6):
        _token(api_client, "mei", "wrong")
    assert _token(api_client, "jun", "kitstreet").status_code == 200


def test_the_login_form_says_the_username_is_locked(client):
    UserFactory(username="mei")
    for _ in range(5):
        response = client.post("/login/", {"username": "mei", "password": "wrong"})
        assert response.status_code == 200  # the form again, "enter a correct username and password"
    locked = client.post("/login/", {"username": "mei", "password": "kitstreet"})
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    assert "Too many failed login attempts" in locked.content.decode()
    assert "Try again in 15 minutes" in locked.content.decode()


def test_failures_on_the_form_and_the_api_count_together(client, api_client):
    UserFactory(username="mei")
    for _ in range(3):
        client.post("/login/", {"username": "mei", "password": "wrong"})
    for _ in range(2):
        _token(api_client, "mei", "wrong")
    assert _token(api_client, "mei", "wrong").status_code == 429
