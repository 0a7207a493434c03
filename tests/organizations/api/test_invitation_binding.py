"""Invitations are bound to the invited address (issue 23): a leaked link makes nobody a member."""

import re
from smtplib import SMTPException
from unittest import mock

import pytest
from rest_framework.test import APIClient

from config.outbox.models import OutboxMessage
from organizations.models import Invitation, Membership, VerifiedEmail
from organizations.services import email_verification_token, invitation_email_deliver
from tests.organizations.factories import UserFactory


def _client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _invite(member, email="invitee@example.test", role="member") -> dict:
    response = member.client.post(f"/api/v1/organizations/{member.org.pk}/invitations/", {"email": email, "role": role}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _verified(email: str, **kwargs):
    user = UserFactory(email=email, **kwargs)
    VerifiedEmail.objects.create(user=user, email=email.lower())
    return user


def test_a_stranger_holding_the_link_is_refused_and_cannot_read_members(buyer, trader):
    token = _invite(buyer)["token"]
    response = trader.client.post(f"/api/v1/invitations/{token}/accept/")
    assert response.status_code == 403
    assert "another email address" in response.json()["detail"]
    assert not Membership.objects.filter(organization=buyer.org, user=trader.user).exists()
    assert trader.client.get(f"/api/v1/organizations/{buyer.org.pk}/members/").status_code == 404
    assert Invitation.objects.get(token=token).status == "pending"  # still usable by the invitee


def test_an_unverified_account_with_the_invited_address_must_confirm_it_first(buyer, mailoutbox, django_capture_on_commit_callbacks):
    token = _invite(buyer)["token"]
    # Anyone can type someone else's address into their profile: that alone is not enough.
    squatter = UserFactory(email="Invitee@Example.test")
    client = _client_for(squatter)
    response = client.post(f"/api/v1/invitations/{token}/accept/")
    assert response.status_code == 403 and "Confirm your email address" in response.json()["detail"]
    assert not Membership.objects.filter(organization=buyer.org, user=squatter).exists()
    assert client.get("/api/v1/me/email/verification/").json() == {"email": "Invitee@Example.test", "verified": False}

    # The real owner of the mailbox confirms it through the emailed link, then accepts.
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post("/api/v1/me/email/verification/")
    assert sent.status_code == 202
    assert mailoutbox[-1].to == ["invitee@example.test"]
    link_token = re.search(r"/verify-email/(\S+)/", mailoutbox[-1].body).group(1)
    confirmed = client.post("/api/v1/me/email/verification/confirm/", {"token": link_token}, format="json")
    assert confirmed.status_code == 200 and confirmed.json() == {"email": "invitee@example.test", "verified": True}
    accepted = client.post(f"/api/v1/invitations/{token}/accept/")
    assert accepted.status_code == 201 and accepted.json()["role"] == "member"


def test_a_confirmation_link_only_confirms_its_own_account_and_current_address(db):
    ada = UserFactory(email="ada@example.test")
    eve = UserFactory(email="ada@example.test")
    token = email_verification_token(user=ada, email="ada@example.test")
    assert _client_for(eve).post("/api/v1/me/email/verification/confirm/", {"token": token}, format="json").status_code == 400
    assert _client_for(ada).post("/api/v1/me/email/verification/confirm/", {"token": token + "x"}, format="json").status_code == 400
    ada.email = "ada@elsewhere.test"
    ada.save()
    response = _client_for(ada).post("/api/v1/me/email/verification/confirm/", {"token": token}, format="json")
    assert response.status_code == 400 and "no longer has" in str(response.json())
    assert not VerifiedEmail.objects.exists()


def test_an_account_without_an_address_cannot_ask_for_a_link(db):
    response = _client_for(UserFactory(email="")).post("/api/v1/me/email/verification/")
    assert response.status_code == 400
    assert not OutboxMessage.objects.exists()


def test_another_account_asks_and_only_an_admin_approval_makes_it_a_member(buyer, colleague):
    invitation = _invite(buyer, role="viewer")
    personal = _verified("invitee@home.example")
    client = _client_for(personal)
    assert client.post(f"/api/v1/invitations/{invitation['token']}/accept/").status_code == 403
    asked = client.post(f"/api/v1/invitations/{invitation['token']}/request/")
    assert asked.status_code == 202 and asked.json()["role"] == "viewer"
    assert not Membership.objects.filter(organization=buyer.org, user=personal).exists()

    listed = buyer.client.get(f"/api/v1/organizations/{buyer.org.pk}/invitations/").json()["results"][0]
    assert listed["requested_by"] == personal.username and listed["requested_by_email"] == "invitee@home.example"
    approve = f"/api/v1/organizations/{buyer.org.pk}/invitations/{invitation['id']}/approve/"
    assert colleague(buyer, "member").client.post(approve).status_code == 403
    approved = buyer.client.post(approve)
    assert approved.status_code == 201 and approved.json()["username"] == personal.username
    assert Membership.objects.get(organization=buyer.org, user=personal).role == "viewer"
    assert buyer.client.post(approve).status_code == 409  # used
    assert client.post(f"/api/v1/invitations/{invitation['token']}/accept/").status_code == 400


def test_approving_without_a_request_is_a_409(buyer):
    invitation = _invite(buyer)
    response = buyer.client.post(f"/api/v1/organizations/{buyer.org.pk}/invitations/{invitation['id']}/approve/")
    assert response.status_code == 409 and "Nobody has asked" in response.json()["detail"]
    assert Membership.objects.filter(organization=buyer.org).count() == 1


def test_strangers_cannot_approve_or_request_for_members(buyer, trader):
    invitation = _invite(buyer)
    assert trader.client.post(f"/api/v1/organizations/{buyer.org.pk}/invitations/{invitation['id']}/approve/").status_code == 404
    assert buyer.client.post(f"/api/v1/invitations/{invitation['token']}/request/").status_code == 400  # already a member


@pytest.mark.parametrize("state", ["revoked", "accepted"])
def test_used_and_revoked_links_say_so_even_to_the_right_account(buyer, state):
    token = _invite(buyer)["token"]
    Invitation.objects.filter(token=token).update(status=state)
    response = _client_for(_verified("invitee@example.test")).post(f"/api/v1/invitations/{token}/accept/")
    assert response.status_code == 400
    assert ("revoked" if state == "revoked" else "already been used") in str(response.json())


def test_the_invitation_email_goes_through_the_outbox_after_commit(buyer, mailoutbox):
    _invite(buyer)  # the test transaction never commits: no email may have been sent in the request
    assert mailoutbox == []
    message = OutboxMessage.objects.get()
    assert message.task_name == "organizations.tasks.invitation_email_send_task"
    assert message.args[0] == Invitation.objects.get().pk


def test_a_mail_outage_leaves_the_invitation_to_retry_and_it_is_sent_once(buyer, mailoutbox):
    invitation = Invitation.objects.get(pk=_invite(buyer)["id"])
    with mock.patch("organizations.services.send_mail", side_effect=SMTPException("down")):
        with pytest.raises(SMTPException):  # the task's autoretry catches this and tries again later
            invitation_email_deliver(invitation=invitation, accept_url="https://x.test/invitations/TOKEN/")
    invitation.refresh_from_db()
    assert invitation.emailed_at is None
    assert invitation_email_deliver(invitation=invitation, accept_url="https://x.test/invitations/TOKEN/") is True
    invitation.refresh_from_db()
    assert invitation_email_deliver(invitation=invitation) is False  # a redelivered task sends nothing twice
    assert len(mailoutbox) == 1 and f"https://x.test/invitations/{invitation.token}/" in mailoutbox[0].body
