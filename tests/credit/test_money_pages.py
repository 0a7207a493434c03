"""Browser pages for money out, disputes, FX and the platform line, as each person uses them."""

from decimal import Decimal

import pytest
from django.urls import reverse

from credit.models import Dispute, FxRate, Payout
from credit.services import account_for, credit_line_grant, supplier_terms_set
from marketplace.orders.services import order_place, purchase_order_confirm, purchase_order_deliver, purchase_order_ship
from tests.credit.factories import funded_wallet
from tests.marketplace.factories import ListingFactory, MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def supplier():
    return MembershipFactory(organization=OrganizationFactory(name="Hua Xin", trader=True, verified=True))


@pytest.fixture
def operator_user():
    return UserFactory(username="desk", is_staff=True)


def test_a_supplier_requests_a_payout_and_an_operator_settles_it_from_the_desk(client, supplier, operator_user):
    funded_wallet(supplier.organization, "900.00")
    client.force_login(supplier.user)
    page = client.get(reverse("credit:payouts")).content.decode()
    assert "Request a payout" in page and "No payouts yet" in page
    response = client.post(reverse("credit:payouts"), {"amount": "400.00", "currency": "CNY", "idempotency_token": "t1"}, follow=True)
    assert "Payout of 400.00 CNY requested" in response.content.decode()
    client.post(reverse("credit:payouts"), {"amount": "400.00", "currency": "CNY", "idempotency_token": "t1"})  # double click
    assert Payout.objects.count() == 1
    too_much = client.post(reverse("credit:payouts"), {"amount": "600.00", "currency": "CNY", "idempotency_token": "t2"})
    assert "Not enough money" in too_much.content.decode()

    assert client.get(reverse("credit:desk")).status_code == 403
    client.force_login(operator_user)
    desk = client.get(reverse("credit:desk")).content.decode()
    assert "Payouts to settle (1)" in desk and "Hua Xin" in desk
    payout = Payout.objects.get()
    client.post(reverse("credit:payout-resolve", args=[payout.pk]), {"action": "settle", "reference": "ICBC OUT 1"})
    client.force_login(supplier.user)
    history = client.get(reverse("credit:payouts")).content.decode()
    assert "ICBC OUT 1" in history and "Settled" in history
    assert account_for(organization=supplier.organization, kind="wallet", currency="CNY").balance == Decimal("500.00")


def test_buyer_disputes_a_shipped_order_supplier_sees_it_operator_resolves_it(client, supplier, operator_user):
    buyer = MembershipFactory(organization=OrganizationFactory(name="Lumen Labs"))
    funded_wallet(buyer.organization, "1000.00")
    listing = ListingFactory(vendor=supplier.organization, breaks=[(1, "5.00")])
    supplier_terms_set(supplier=supplier.organization, deposit_percent=Decimal("30"), release_on="deliver", forfeit_percent=Decimal("100"))
    order = order_place(buyer=buyer.organization, placed_by=buyer.user, payment="deposit", lines=[(listing, 20)])
    po = order.purchase_orders.get()
    purchase_order_confirm(purchase_order=po, actor=supplier.organization)
    purchase_order_ship(purchase_order=po, actor=supplier.organization)

    client.force_login(buyer.user)
    assert "Dispute" in client.get(reverse("marketplace:order-detail", args=[order.pk])).content.decode()
    url = reverse("marketplace:purchase-order-dispute-page", args=[po.pk])
    assert "What is wrong" in client.get(url).content.decode()
    page = client.post(url, {"reason": "Ten boards have no radio module"}, follow=True).content.decode()
    assert "Dispute on PO" in page and "Ten boards have no radio module" in page and "30.00" in page
    dispute = Dispute.objects.get()

    client.force_login(supplier.user)
    assert "Lumen Labs" in client.get(reverse("credit:disputes")).content.decode()
    supplier_view = client.get(reverse("credit:dispute-detail", args=[dispute.pk])).content.decode()
    assert "Split and close" not in supplier_view and "stays held" in supplier_view

    client.force_login(operator_user)
    assert "Disputes to resolve (1)" in client.get(reverse("credit:desk")).content.decode()
    done = client.post(reverse("credit:dispute-detail", args=[dispute.pk]),
                       {"refund_percent": "50", "note": "Half the batch lacks the module"}, follow=True).content.decode()
    assert "Half the batch lacks the module" in done and "15.00" in done
    assert account_for(organization=buyer.organization, kind="wallet", currency="CNY").balance == Decimal("985.00")

    stranger = MembershipFactory()
    client.force_login(stranger.user)
    assert client.get(reverse("credit:dispute-detail", args=[dispute.pk])).status_code == 404


def test_operators_keep_rates_and_everyone_sees_the_history(client, operator_user):
    client.force_login(operator_user)
    client.post(reverse("credit:fx-rates"), {"base": "USD", "quote": "CNY", "rate": "7.2"})
    bad = client.post(reverse("credit:fx-rates"), {"base": "USD", "quote": "USD", "rate": "1"})
    assert "two different currencies" in bad.content.decode()
    assert FxRate.objects.count() == 1
    member = MembershipFactory()
    client.force_login(member.user)
    page = client.get(reverse("credit:fx-rates")).content.decode()
    assert "7.2" in page and "New rate" not in page
    assert client.post(reverse("credit:fx-rates"), {"base": "USD", "quote": "CNY", "rate": "9"}).status_code == 403


def test_the_buyer_reads_one_statement_for_the_platform_line_across_vendors(client):
    buyer = MembershipFactory(organization=OrganizationFactory(name="Lumen Labs"))
    line = credit_line_grant(supplier=None, buyer=buyer.organization, limit=Decimal("2000.00"), currency="CNY")
    listings = [ListingFactory(breaks=[(1, p)]) for p in ("1.00", "2.00")]
    order = order_place(buyer=buyer.organization, placed_by=buyer.user, payment="credit", lines=[(l, 100) for l in listings])
    for po in order.purchase_orders.select_related("vendor"):
        purchase_order_confirm(purchase_order=po, actor=po.vendor)
        purchase_order_ship(purchase_order=po, actor=po.vendor)
        purchase_order_deliver(purchase_order=po, actor=buyer.organization)
    client.force_login(buyer.user)
    assert "Kitstreet" in client.get(reverse("credit:wallet")).content.decode()
    page = client.get(reverse("credit:line-detail", args=[line.pk])).content.decode()
    assert "Kitstreet → Lumen Labs" in page and "300.00" in page
    csv = client.get(reverse("credit:line-statement", args=[line.pk])).content.decode()
    assert csv.count("invoice") == 2 and "Kitstreet -> Lumen Labs" in csv
