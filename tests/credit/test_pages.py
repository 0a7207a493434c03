"""The browser pages, as a buyer and a supplier would use them."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from credit.models import CreditLine
from credit.services import credit_draw
from tests.credit.factories import credit_line, funded_wallet
from tests.marketplace.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(client):
    supplier = MembershipFactory(organization=OrganizationFactory(name="Hua Xin", trader=True))
    buyer = MembershipFactory(organization=OrganizationFactory(name="Lumen Labs"))
    line = credit_line(supplier=supplier.organization, buyer=buyer.organization, limit="5000.00", terms_days=30)
    credit_draw(line=line, amount=Decimal("1200.00"), issued_on=timezone.localdate() - timedelta(days=45))
    funded_wallet(buyer.organization, "3000.00")
    return supplier, buyer, line


def test_empty_wallet_page_says_what_to_do_next(client):
    client.force_login(MembershipFactory().user)
    response = client.get(reverse("credit:wallet"))
    assert response.status_code == 200
    assert b"No money on Kitstreet yet" in response.content and b"No credit lines yet" in response.content


def test_buyer_sees_what_it_owes_and_repays_from_the_page(client, people):
    supplier, buyer, line = people
    client.force_login(buyer.user)
    page = client.get(reverse("credit:wallet")).content.decode()
    assert "What I owe" in page and "Hua Xin" in page and "1,200.00" in page
    response = client.post(reverse("credit:line-repay", args=[line.pk]), {"amount": "200.00"}, follow=True)
    assert b"Repaid 200.00 CNY" in response.content
    assert b"1,000.00" in client.get(reverse("credit:line-detail", args=[line.pk])).content
    response = client.post(reverse("credit:line-repay", args=[line.pk]), {"amount": "99999.00"}, follow=True)
    assert b"repay at most that" in response.content


def test_dashboard_panels_differ_for_buyer_and_supplier(client, people):
    supplier, buyer, line = people
    client.force_login(buyer.user)
    assert b"What I owe" in client.get("/").content
    client.force_login(supplier.user)
    home = client.get("/").content
    assert b"Receivables" in home and b"1,200.00" in home


def test_supplier_ageing_freeze_and_statement(client, people):
    supplier, buyer, line = people
    client.force_login(supplier.user)
    page = client.get(reverse("credit:receivables")).content.decode()
    assert "Ageing" in page and "Lumen Labs" in page
    client.post(reverse("credit:line-update", args=[line.pk]), {"action": "freeze", "reason": "late"})
    assert CreditLine.objects.get(pk=line.pk).status == "frozen"
    client.post(reverse("credit:line-update", args=[line.pk]), {"action": "save", "limit": "8000.00", "terms_days": "45"})
    line.refresh_from_db()
    assert (line.limit, line.terms_days) == (Decimal("8000.00"), 45)
    csv = client.get(reverse("credit:line-statement", args=[line.pk]))
    assert csv["Content-Type"].startswith("text/csv")
    assert "INV-" in csv.content.decode() and "1200.00" in csv.content.decode()


def test_buyer_cannot_change_the_line_and_strangers_get_404(client, people):
    supplier, buyer, line = people
    client.force_login(buyer.user)
    assert client.post(reverse("credit:line-update", args=[line.pk]), {"action": "freeze"}).status_code == 404
    client.force_login(MembershipFactory().user)
    assert client.get(reverse("credit:line-detail", args=[line.pk])).status_code == 404
    assert client.get(reverse("credit:line-statement", args=[line.pk])).status_code == 404


def test_supplier_grants_a_line_from_the_page(client):
    supplier = MembershipFactory(organization=OrganizationFactory(name="Sai Ge", trader=True))
    buyer = OrganizationFactory(name="Pocket Robotics")
    client.force_login(supplier.user)
    response = client.post(reverse("credit:line-grant"), {"buyer": buyer.pk, "limit": "3000.00", "currency": "CNY",
                                                          "terms_days": "30"}, follow=True)
    assert b"Granted Pocket Robotics" in response.content
    assert CreditLine.objects.filter(supplier=supplier.organization, buyer=buyer).exists()


def test_a_double_submitted_repay_form_repays_once(client, people):
    supplier, buyer, line = people
    client.force_login(buyer.user)
    form = {"amount": "100.00", "idempotency_token": "tok-1"}
    client.post(reverse("credit:line-repay", args=[line.pk]), form)
    response = client.post(reverse("credit:line-repay", args=[line.pk]), form, follow=True)
    assert b"already recorded" in response.content
    from credit.models import Repayment

    assert Repayment.objects.filter(credit_line=line).count() == 1
