"""Scoped API tokens for integrations (issue 23): per organisation, named scopes, listed and
revocable by admins, the key shown once."""

import pytest
from rest_framework.test import APIClient

from organizations.models import ApiToken, Membership

pytestmark = pytest.mark.django_db

LISTING = {"manufacturer": "TI", "mpn": "TPS63020", "stock": 10, "moq": 1, "multiple": 1, "lead_time_days": 0,
           "currency": "CNY", "price_breaks": [{"min_qty": 1, "unit_price": "3.10"}]}


def _create(member, scopes, name="ERP feed"):
    return member.client.post(f"/api/v1/organizations/{member.org.pk}/api-tokens/", {"name": name, "scopes": scopes}, format="json")


def _client(key: str, organization: int | None = None) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}", **({"HTTP_X_ORGANIZATION": str(organization)} if organization else {}))
    return client


def test_the_key_is_shown_once_and_only_its_hash_is_kept(trader):
    created = _create(trader, ["listings:read"])
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("kst_") and created.json()["prefix"] == key[:12]
    listed = trader.client.get(f"/api/v1/organizations/{trader.org.pk}/api-tokens/").json()["results"]
    assert [t["name"] for t in listed] == ["ERP feed"] and "key" not in listed[0]
    assert key not in str(ApiToken.objects.values_list())


def test_a_token_reaches_only_what_its_scopes_cover(trader):
    key = _create(trader, ["listings:read"]).json()["key"]
    client = _client(key)
    assert client.get("/api/v1/listings/").status_code == 200
    assert client.get("/api/v1/me/").json()["acting_organization"] == trader.org.pk
    refused = client.post("/api/v1/listings/", LISTING, format="json")
    assert refused.status_code == 403 and "listings:write" in refused.json()["detail"]
    assert client.get("/api/v1/orders/").status_code == 403
    assert client.get("/api/v1/accounts/").status_code == 403
    # Managing people and tokens is never open to integration tokens.
    assert client.get(f"/api/v1/organizations/{trader.org.pk}/members/").status_code == 403
    assert _client(key).post(f"/api/v1/organizations/{trader.org.pk}/api-tokens/", {"name": "x", "scopes": ["money"]},
                             format="json").status_code == 403


def test_write_orders_and_money_scopes(trader):
    key = _create(trader, ["listings:write", "money"]).json()["key"]
    client = _client(key)
    assert client.post("/api/v1/listings/", LISTING, format="json").status_code == 201
    assert client.get("/api/v1/accounts/").status_code == 200
    assert client.get("/api/v1/orders/").status_code == 403


def test_a_token_acts_for_its_own_organisation_only(trader, buyer):
    Membership.objects.create(user=trader.user, organization=buyer.org, role="owner")
    key = _create(trader, ["listings:read"]).json()["key"]
    assert _client(key, organization=buyer.org.pk).get("/api/v1/listings/").status_code == 403
    assert _client(key, organization=trader.org.pk).get("/api/v1/listings/").status_code == 200


def test_revoked_tokens_and_tokens_of_a_former_admin_stop_working(trader, colleague):
    created = _create(trader, ["listings:read"]).json()
    revoke = f"/api/v1/organizations/{trader.org.pk}/api-tokens/{created['id']}/revoke/"
    assert trader.client.post(revoke).json()["active"] is False
    assert _client(created["key"]).get("/api/v1/listings/").status_code == 401
    assert trader.client.post(revoke).status_code == 409

    admin = colleague(trader, "admin")
    key = _create(admin, ["listings:read"]).json()["key"]
    assert _client(key).get("/api/v1/listings/").status_code == 200
    Membership.objects.filter(user=admin.user, organization=trader.org).update(role="member")
    assert _client(key).get("/api/v1/listings/").status_code == 401


def test_only_admins_create_and_bad_input_is_a_400(trader, colleague, buyer):
    assert _create(colleague(trader, "member"), ["listings:read"]).status_code == 403
    assert _create(trader, ["everything"]).status_code == 400
    assert _create(trader, []).status_code == 400
    assert _create(trader, ["orders"], name="").status_code == 400
    assert buyer.client.get(f"/api/v1/organizations/{trader.org.pk}/api-tokens/").status_code == 404
    assert _client("kst_not-a-real-key").get("/api/v1/listings/").status_code == 401
    assert not ApiToken.objects.exists()
