"""Identity and organisations through the REST API, as integrations use it."""

import pytest
from rest_framework.test import APIClient

from organizations.models import Organization
from tests.marketplace.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_token_auth_round_trip(api_client):
    MembershipFactory(user__username="lin", organization__name="Lumen Labs")
    response = api_client.post("/api/v1/auth/token/", {"username": "lin", "password": "kitstreet"})
    assert response.status_code == 200
    token = response.json()["token"]

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/me/").json()
    assert me["username"] == "lin"
    assert [o["name"] for o in me["organizations"]] == ["Lumen Labs"]


def test_bad_credentials_get_400_and_no_token(api_client):
    UserFactory(username="lin")
    response = api_client.post("/api/v1/auth/token/", {"username": "lin", "password": "wrong"})
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_anonymous_requests_get_401(api_client):
    assert api_client.get("/api/v1/me/").status_code == 401
    assert APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION="Token nonsense").status_code == 401


def test_me_lists_only_my_memberships_and_the_acting_one(buyer):
    other = OrganizationFactory(name="Somebody Else")
    second = MembershipFactory(user=buyer.user, organization__name="Second", role="staff").organization
    me = buyer.client.get("/api/v1/me/").json()
    assert {o["id"] for o in me["organizations"]} == {buyer.org.pk, second.pk}
    assert other.pk not in {o["id"] for o in me["organizations"]}
    assert me["acting_organization"] == buyer.org.pk
    assert me["organizations"][0]["kinds"] == ["buyer"]

    buyer.client.credentials(HTTP_X_ORGANIZATION=str(second.pk))
    me = buyer.client.get("/api/v1/me/").json()
    assert me["acting_organization"] == second.pk


def test_acting_for_an_organisation_i_do_not_belong_to_is_403(buyer):
    stranger = OrganizationFactory()
    buyer.client.credentials(HTTP_X_ORGANIZATION=str(stranger.pk))
    assert buyer.client.get("/api/v1/me/").status_code == 403
    buyer.client.credentials(HTTP_X_ORGANIZATION="abc")
    assert buyer.client.get("/api/v1/me/").status_code == 403


def test_onboarding_creates_an_organisation_owned_by_the_caller():
    user = UserFactory()
    client = APIClient()
    client.force_authenticate(user)
    response = client.post("/api/v1/organizations/", {"name": "Hua Xin", "kinds": ["trader"]}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["kinds"] == ["supplier", "trader"] and body["verified"] is False
    assert client.get("/api/v1/me/").json()["organizations"][0]["role"] == "owner"


@pytest.mark.parametrize("payload", [{"name": "X", "kinds": []}, {"name": "X", "kinds": ["pirate"]}, {"kinds": ["buyer"]}, {"name": "", "kinds": ["buyer"]}])
def test_onboarding_rejects_bad_input_with_400_and_creates_nothing(buyer, payload):
    before = Organization.objects.count()
    response = buyer.client.post("/api/v1/organizations/", payload, format="json")
    assert response.status_code == 400
    assert set(response.json()) <= {"name", "kinds"}
    assert Organization.objects.count() == before


def test_another_organisations_hidden_object_is_404(buyer):
    unverified = OrganizationFactory(trader=True, verified=False)
    assert buyer.client.get(f"/api/v1/organizations/{unverified.pk}/").status_code == 404
    assert buyer.client.get("/api/v1/organizations/999999/").status_code == 404
    verified = OrganizationFactory(trader=True, name="Public Stall")
    assert buyer.client.get(f"/api/v1/organizations/{verified.pk}/").json()["name"] == "Public Stall"
    listed = {o["id"] for o in buyer.client.get("/api/v1/organizations/").json()["results"]}
    assert verified.pk in listed and unverified.pk not in listed


def test_only_operators_verify_suppliers(buyer, operator):
    stall = OrganizationFactory(trader=True, verified=False)
    assert buyer.client.post(f"/api/v1/organizations/{stall.pk}/verify/").status_code == 403
    stall.refresh_from_db()
    assert not stall.verified

    response = operator.client.post(f"/api/v1/organizations/{stall.pk}/verify/")
    assert response.status_code == 200 and response.json()["verified"] is True
    assert buyer.client.get(f"/api/v1/organizations/{stall.pk}/").status_code == 200


def test_lists_are_paginated_with_a_cap(buyer):
    OrganizationFactory.create_batch(5)
    body = buyer.client.get("/api/v1/organizations/?page_size=2").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert len(body["results"]) == 2 and body["count"] == 6
    assert buyer.client.get("/api/v1/organizations/?page=99").status_code == 404
