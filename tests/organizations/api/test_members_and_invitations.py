from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from organizations.models import Invitation, Membership, VerifiedEmail
from tests.organizations.factories import UserFactory


def _invitee(email="new@example.com", **kwargs):
    """An account whose address is `email`, already confirmed."""
    user = UserFactory(email=email, **kwargs)
    VerifiedEmail.objects.create(user=user, email=email.lower())
    return user


def _client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _invite(member, email="new@example.com", role="member"):
    response = member.client.post(f"/api/v1/organizations/{member.org.pk}/invitations/", {"email": email, "role": role}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_an_invitation_is_emailed_with_a_link_and_accepting_it_adds_the_member(buyer, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the email goes once the invitation is committed
        invitation = _invite(buyer, "Ada@Example.com", "viewer")
    assert invitation["email"] == "ada@example.com" and invitation["status"] == "pending"
    assert len(mailoutbox) == 1 and invitation["token"] in mailoutbox[0].body
    assert invitation["accept_url"].endswith(f"/invitations/{invitation['token']}/")

    ada = _invitee("ada@example.com", username="ada")
    response = _client_for(ada).post(f"/api/v1/invitations/{invitation['token']}/accept/")
    assert response.status_code == 201, response.content
    assert response.json()["role"] == "viewer"
    assert Membership.objects.get(user=ada, organization=buyer.org).role == "viewer"
    members = buyer.client.get(f"/api/v1/organizations/{buyer.org.pk}/members/").json()["results"]
    assert {m["username"]: m["role"] for m in members}["ada"] == "viewer"


def test_an_invitation_works_once(buyer):
    token = _invite(buyer)["token"]
    assert _client_for(_invitee()).post(f"/api/v1/invitations/{token}/accept/").status_code == 201
    again = _client_for(_invitee()).post(f"/api/v1/invitations/{token}/accept/")
    assert again.status_code == 400
    assert "already been used" in str(again.json())


def test_an_expired_invitation_is_refused(buyer):
    token = _invite(buyer)["token"]
    Invitation.objects.filter(token=token).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = _client_for(_invitee()).post(f"/api/v1/invitations/{token}/accept/")
    assert response.status_code == 400 and "expired" in str(response.json())
    assert Membership.objects.filter(organization=buyer.org).count() == 1


def test_a_revoked_invitation_is_refused_and_cannot_be_revoked_twice(buyer):
    invitation = _invite(buyer)
    url = f"/api/v1/organizations/{buyer.org.pk}/invitations/{invitation['id']}/revoke/"
    assert buyer.client.post(url).json()["status"] == "revoked"
    assert buyer.client.post(url).status_code == 409
    response = _client_for(_invitee()).post(f"/api/v1/invitations/{invitation['token']}/accept/")
    assert response.status_code == 400 and "revoked" in str(response.json())


def test_an_unknown_token_is_a_clear_400(db):
    response = _client_for(UserFactory()).post("/api/v1/invitations/nope/accept/")
    assert response.status_code == 400 and "No such invitation" in str(response.json())


def test_members_and_viewers_cannot_invite_and_admins_cannot_invite_owners(buyer, colleague):
    member, admin = colleague(buyer, "member"), colleague(buyer, "admin")
    assert member.client.post(f"/api/v1/organizations/{buyer.org.pk}/invitations/", {"email": "x@example.com"}, format="json").status_code == 403
    assert admin.client.post(f"/api/v1/organizations/{buyer.org.pk}/invitations/", {"email": "x@example.com", "role": "owner"}, format="json").status_code == 403
    assert admin.client.post(f"/api/v1/organizations/{buyer.org.pk}/invitations/", {"email": "x@example.com", "role": "admin"}, format="json").status_code == 201


def test_strangers_see_no_members_or_invitations(buyer, trader):
    assert trader.client.get(f"/api/v1/organizations/{buyer.org.pk}/members/").status_code == 404
    assert trader.client.get(f"/api/v1/organizations/{buyer.org.pk}/invitations/").status_code == 404
    assert trader.client.post(f"/api/v1/organizations/{buyer.org.pk}/invitations/", {"email": "x@example.com"}, format="json").status_code == 404


def test_bad_invitation_input_is_a_400_and_changes_nothing(buyer):
    url = f"/api/v1/organizations/{buyer.org.pk}/invitations/"
    assert buyer.client.post(url, {"email": "not-an-email"}, format="json").status_code == 400
    assert buyer.client.post(url, {"email": "a@example.com", "role": "boss"}, format="json").status_code == 400
    assert Invitation.objects.count() == 0


def test_the_last_owner_cannot_be_demoted_or_leave(buyer, colleague):
    url = f"/api/v1/organizations/{buyer.org.pk}/members/{buyer.user.pk}/"
    response = buyer.client.patch(url, {"role": "admin"}, format="json")
    assert response.status_code == 409 and "last owner" in response.json()["detail"]
    assert buyer.client.delete(url).status_code == 409
    second = colleague(buyer, "owner")
    assert buyer.client.patch(url, {"role": "admin"}, format="json").json()["role"] == "admin"
    # Now `second` is the only owner: it cannot leave either.
    assert second.client.delete(f"/api/v1/organizations/{buyer.org.pk}/members/{second.user.pk}/").status_code == 409


def test_admins_manage_members_but_not_owners(buyer, colleague):
    admin, member = colleague(buyer, "admin"), colleague(buyer, "member")
    base = f"/api/v1/organizations/{buyer.org.pk}/members/"
    assert admin.client.patch(f"{base}{member.user.pk}/", {"role": "viewer"}, format="json").json()["role"] == "viewer"
    assert admin.client.patch(f"{base}{buyer.user.pk}/", {"role": "member"}, format="json").status_code == 403
    assert admin.client.patch(f"{base}{member.user.pk}/", {"role": "owner"}, format="json").status_code == 403
    assert member.client.patch(f"{base}{admin.user.pk}/", {"role": "viewer"}, format="json").status_code == 403
    assert admin.client.delete(f"{base}{member.user.pk}/").status_code == 204
    assert not Membership.objects.filter(user=member.user, organization=buyer.org).exists()


def test_a_member_can_leave(buyer, colleague):
    member = colleague(buyer, "member")
    assert member.client.delete(f"/api/v1/organizations/{buyer.org.pk}/members/{member.user.pk}/").status_code == 204


@pytest.mark.parametrize("role", ["viewer", "member", "admin", "owner"])
def test_me_shows_the_role(buyer, colleague, role):
    person = colleague(buyer, role) if role != "owner" else buyer
    orgs = person.client.get("/api/v1/me/").json()["organizations"]
    assert orgs[0]["role"] == role


def test_a_patch_without_a_role_changes_nothing_and_a_bad_role_is_a_400(buyer, colleague):
    member = colleague(buyer, "member")
    url = f"/api/v1/organizations/{buyer.org.pk}/members/{member.user.pk}/"
    unchanged = buyer.client.patch(url, {}, format="json")
    assert unchanged.status_code == 200 and unchanged.json()["role"] == "member"
    assert buyer.client.patch(url, {"role": "boss"}, format="json").status_code == 400
    assert buyer.client.get(f"/api/v1/organizations/{buyer.org.pk}/members/").json()["count"] == 2
