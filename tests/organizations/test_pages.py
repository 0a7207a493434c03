import re
from decimal import Decimal

from django.test import Client

from credit.services import wallet_topup
from organizations.models import Invitation, Membership
from tests.marketplace.factories import OrganizationFactory
from tests.organizations.factories import UserFactory


def _browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_admin_invites_from_the_people_page_and_the_link_works_in_the_browser(buyer, django_capture_on_commit_callbacks, mailoutbox):
    page = _browser(buyer.user)
    assert "Invite a colleague" in page.get("/members/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = page.post("/members/invite/", {"email": "lin@example.com", "role": "member"}, follow=True)
    assert "Invitation sent to lin@example.com" in response.content.decode()
    token = Invitation.objects.get().token
    assert f"/invitations/{token}/" in mailoutbox[0].body

    lin = UserFactory(username="lin")  # lin@example.com, not yet confirmed
    visitor = Client()
    assert visitor.get(f"/invitations/{token}/")["Location"].startswith("/login/")
    invitee = _browser(lin)
    page_html = invitee.get(f"/invitations/{token}/").content.decode()
    assert "Email me a confirmation link" in page_html and "Accept and join" not in page_html
    assert invitee.post(f"/invitations/{token}/").status_code == 403  # unconfirmed: nothing happens
    assert not Membership.objects.filter(user=lin).exists()

    # The confirmation link goes to lin@example.com; following it brings lin back to the invitation.
    with django_capture_on_commit_callbacks(execute=True):
        invitee.post("/verify-email/", {"next": f"/invitations/{token}/"})
    link = re.search(r"http://testserver(/verify-email/\S+)", mailoutbox[-1].body).group(1)
    assert mailoutbox[-1].to == ["lin@example.com"]
    back = invitee.get(link)
    assert back["Location"] == f"/invitations/{token}/"
    assert "Accept and join" in invitee.get(f"/invitations/{token}/").content.decode()
    response = invitee.post(f"/invitations/{token}/", follow=True)
    assert f"Welcome to {buyer.org.name}" in response.content.decode()
    assert Membership.objects.get(user=lin).role == "member"
    assert invitee.get(f"/invitations/{token}/").status_code == 400  # used


def test_another_account_asks_to_join_in_the_browser_and_an_admin_approves_it(buyer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _browser(buyer.user).post("/members/invite/", {"email": "lin@example.com", "role": "viewer"})
    token = Invitation.objects.get().token
    other = UserFactory(username="lin-personal", email="lin@home.example")
    page = _browser(other)
    html = page.get(f"/invitations/{token}/").content.decode()
    assert "sent to another email address" in html and "Accept and join" not in html
    assert page.post(f"/invitations/{token}/").status_code == 403
    page.post(f"/invitations/{token}/", {"action": "request"})
    assert not Membership.objects.filter(user=other).exists()
    admin_page = _browser(buyer.user)
    assert "lin-personal" in admin_page.get("/members/").content.decode()
    invitation = Invitation.objects.get()
    response = admin_page.post(f"/members/invitations/{invitation.pk}/approve/", follow=True)
    assert "lin-personal joined" in response.content.decode()
    assert Membership.objects.get(user=other, organization=buyer.org).role == "viewer"


def test_a_viewer_sees_people_but_cannot_change_them_or_write_anywhere(buyer, colleague):
    viewer = colleague(buyer, "viewer")
    page = _browser(viewer.user)
    html = page.get("/members/").content.decode()
    assert "People in" in html and "Invite a colleague" not in html
    assert page.post(f"/members/{buyer.user.pk}/", {"role": "viewer"}).status_code == 403
    assert page.post("/members/invite/", {"email": "x@example.com", "role": "member"}).status_code == 403
    assert page.post("/orders/new/", {"listing": "1", "quantity": "1"}).status_code == 403
    assert Membership.objects.get(user=buyer.user).role == "owner"


def test_a_member_cannot_grant_credit_in_the_browser(trader, colleague):
    member = colleague(trader, "member")
    response = _browser(member.user).post("/credit/lines/grant/", {"buyer": "1", "limit": "100", "currency": "CNY", "terms_days": "30"})
    assert response.status_code == 403


def test_operators_land_on_their_desk_and_verify_a_supplier(operator):
    waiting = OrganizationFactory(name="New Stall", trader=True, verified=False)
    wallet_topup(organization=OrganizationFactory(), amount=Decimal("10.00"), currency="CNY", reference="r1")
    page = _browser(operator.user)
    assert page.get("/")["Location"] == "/desk/"
    html = page.get("/desk/").content.decode()
    assert "Operator desk" in html and "New Stall" in html and "GMV, last 30 days" in html
    response = page.post(f"/desk/verify/{waiting.pk}/", follow=True)
    assert "New Stall is verified" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.verified


def test_the_desk_is_for_operators_only(buyer):
    response = _browser(buyer.user).get("/desk/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
