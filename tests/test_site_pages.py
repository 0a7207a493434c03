"""The browser side of the foundation: login, logout, signup, password change, the switcher."""

import pytest
from django.urls import reverse

from organizations.models import Membership, Organization
from tests.marketplace.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_root_sends_visitors_to_the_login_page(client):
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == reverse("login")
    assert b"Log in to Kitstreet" in response.content


def test_login_then_logout(client):
    membership = MembershipFactory(user__username="lin", organization__name="Lumen Labs")
    response = client.post(reverse("login"), {"username": "lin", "password": "kitstreet"}, follow=True)
    assert response.context["user"] == membership.user
    assert b"Lumen Labs" in response.content  # the dashboard of the acting organisation

    response = client.post(reverse("logout"), follow=True)
    assert not response.context["user"].is_authenticated
    assert client.get("/").status_code == 302


def test_wrong_password_shows_an_error_and_logs_nobody_in(client):
    UserFactory(username="lin")
    response = client.post(reverse("login"), {"username": "lin", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert "_auth_user_id" not in client.session


def test_signup_creates_an_unverified_supplier_owned_by_the_new_user(client):
    response = client.post(reverse("signup"), {
        "username": "newtrader", "email": "t@example.com", "password1": "a-Long-passw0rd", "password2": "a-Long-passw0rd",
        "organization_name": "Stall 3F-C22", "kinds": ["trader"], "location": "SEG Plaza 3F-C22",
    }, follow=True)
    org = Organization.objects.get(name="Stall 3F-C22")
    assert org.is_supplier and org.is_trader and not org.verified
    assert Membership.objects.get(organization=org).role == "owner"
    assert b"waiting for an operator to verify" in response.content


def test_signup_without_a_kind_is_refused_and_creates_nothing(client):
    response = client.post(reverse("signup"), {
        "username": "x", "password1": "a-Long-passw0rd", "password2": "a-Long-passw0rd", "organization_name": "X",
    })
    assert response.status_code == 200
    assert response.context["form"].errors["kinds"]
    assert not Organization.objects.exists()


def test_password_change(client):
    user = UserFactory(username="lin")
    client.force_login(user)
    response = client.post(reverse("password_change"), {
        "old_password": "kitstreet", "new_password1": "an0ther-Long-one", "new_password2": "an0ther-Long-one",
    })
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("an0ther-Long-one")


def test_dashboard_differs_for_buyers_and_unverified_suppliers(client):
    buyer = MembershipFactory(organization__name="Lumen Labs").user
    client.force_login(buyer)
    assert b"Awaiting verification" not in client.get("/").content

    supplier = MembershipFactory(organization=OrganizationFactory(name="New Stall", trader=True, verified=False)).user
    client.force_login(supplier)
    assert b"Awaiting verification" in client.get("/").content


def test_switcher_changes_the_acting_organisation_only_to_ones_i_belong_to(client):
    user = UserFactory()
    first = MembershipFactory(user=user, organization__name="First Org").organization
    second = MembershipFactory(user=user, organization__name="Second Org").organization
    stranger = OrganizationFactory(name="Stranger Org")
    client.force_login(user)
    assert client.get("/").context["org"] == first

    client.post(reverse("switch-organization"), {"organization": second.pk, "next": "/"})
    assert client.get("/").context["org"] == second

    assert client.post(reverse("switch-organization"), {"organization": stranger.pk}).status_code == 404
    assert client.get("/").context["org"] == second


def test_unverified_supplier_profile_is_hidden_from_other_organisations(client):
    hidden = OrganizationFactory(name="Hidden Stall", trader=True, verified=False)
    client.force_login(MembershipFactory().user)
    assert client.get(reverse("marketplace:organization-detail", args=[hidden.pk])).status_code == 404
    client.force_login(MembershipFactory(organization=hidden).user)
    assert client.get(reverse("marketplace:organization-detail", args=[hidden.pk])).status_code == 200


@pytest.mark.parametrize("target", ["/\\evil.example/", "//evil.example/", "https://evil.example/", "/\t/evil.example"])
def test_the_switcher_never_redirects_off_the_site(client, target):
    membership = MembershipFactory()
    client.force_login(membership.user)
    response = client.post(reverse("switch-organization"), {"organization": membership.organization.pk, "next": target})
    assert response.status_code == 302 and response["Location"] == "/"
    kept = client.post(reverse("switch-organization"), {"organization": membership.organization.pk, "next": "/kits/?q=led"})
    assert kept["Location"] == "/kits/?q=led"
