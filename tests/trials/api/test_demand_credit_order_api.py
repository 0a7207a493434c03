"""The reorder of a proven trial, ordered on demand credit with no cash; its sales repay the line,
each batch once; a stalled batch freezes the line; bad orders change nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from credit.models import AccountKind, CreditLine, Hold, Invoice, PurchaseOrderPayment, Repayment
from credit.selectors import ledger_verify
from credit.services.demand import sweep_share
from marketplace.models import Listing, Order
from tests.trials.factories import make_kit, make_trial
from trials.models import Trial
from trials.services import trial_refresh, trial_run, trial_start

pytestmark = pytest.mark.django_db


def run(trial) -> Trial:
    trial_start(trial=trial, enqueue=False)
    return trial_run(trial_id=trial.pk)


@pytest.fixture
def hit(buyer):
    trial = run(make_trial(organization=buyer.org, created_by=buyer.user, kit=make_kit(part_price="20.00"),
                           arms=[{"label": "A", "unit_price": Decimal("99"), "units": 60}],
                           demand={"base_daily": 6, "dispersion": 4, "elasticity": -1.5, "seed": 3}))
    assert trial.verdict == "scale", trial.verdict_reason
    return trial


def reorder(buyer, trial, quantity):
    response = buyer.client.post(f"/api/v1/trials/{trial.pk}/reorder-quote/", {"quantity": quantity}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def order(buyer, trial, quote):
    return buyer.client.post("/api/v1/orders/", {"quote": quote, "payment": "demand_credit", "trial": trial.pk},
                             format="json")


def wallet(org):
    from credit.models import Account

    account = Account.objects.filter(organization=org, kind=AccountKind.WALLET, currency="CNY").first()
    return account.balance if account else Decimal("0")


def test_the_reorder_is_ordered_on_demand_credit_with_no_cash(buyer, hit):
    quote = reorder(buyer, hit, 40)
    offer = buyer.client.get(f"/api/v1/trials/{hit.pk}/financing/").json()
    limit = Decimal(offer["credit_limit"])
    assert offer["reorder_units"] == 40 and limit == Decimal(offer["reorder_cost"])  # 40 units: the cost binds
    response = order(buyer, hit, quote)
    assert response.status_code == 201, response.json()
    assert response.json()["payment"] == "demand_credit" and wallet(buyer.org) == 0
    line = CreditLine.objects.get(kind="demand", trial_id=hit.pk)
    assert line.buyer == buyer.org and line.supplier is None and line.limit == limit
    assert line.order_id == response.json()["id"] and line.repayment_share == Decimal("0.5")
    payments = PurchaseOrderPayment.objects.filter(order_id=line.order_id)
    assert payments and all(p.method == "credit" and p.credit_line_id == line.pk and p.hold.status == Hold.Status.PENDING
                            for p in payments)
    financing = buyer.client.get(f"/api/v1/trials/{hit.pk}/financing/").json()
    assert financing["ordered"]["line"] == line.pk and financing["ordered"]["order"] == line.order_id
    # Twice for one trial: a conflict, nothing kept.
    orders = Order.objects.count()
    again = order(buyer, hit, reorder(buyer, hit, 10))
    assert again.status_code == 409 and Order.objects.count() == orders
    assert not ledger_verify().problems


def test_over_the_limit_or_without_a_scale_verdict_nothing_moves(buyer, hit):
    stock = list(Listing.objects.order_by("pk").values_list("stock", flat=True))
    too_big = order(buyer, hit, reorder(buyer, hit, 5_000))
    assert too_big.status_code == 400 and "demand supports" in str(too_big.json())
    dud = run(make_trial(organization=buyer.org, created_by=buyer.user, kit=hit.kit,
                         arms=[{"label": "A", "unit_price": Decimal("99"), "units": 60}],
                         demand={"base_daily": 0.1, "dispersion": 2, "seed": 3}))
    refused = order(buyer, dud, reorder(buyer, hit, 10))
    assert refused.status_code == 400 and "scale" in str(refused.json())
    missing = buyer.client.post("/api/v1/orders/", {"quote": reorder(buyer, hit, 10), "payment": "demand_credit"},
                                format="json")
    assert missing.status_code == 400 and "trial" in missing.json()
    assert not Order.objects.exists() and not CreditLine.objects.filter(kind="demand").exists()
    assert list(Listing.objects.order_by("pk").values_list("stock", flat=True)) == stock


def _deliver(order_id, buyer_org):
    from marketplace.models import PurchaseOrder
    from marketplace.orders.services import purchase_order_confirm, purchase_order_deliver, purchase_order_ship

    for po in PurchaseOrder.objects.filter(order_id=order_id).select_related("vendor", "order").order_by("pk"):
        purchase_order_confirm(purchase_order=po, actor=po.vendor)
        purchase_order_ship(purchase_order=po, actor=po.vendor)
        purchase_order_deliver(purchase_order=po, actor=buyer_org)


@pytest.fixture
def tracked(buyer, hit):
    """The financed reorder delivered, and a live trial selling it; the buyer's wallet holds some cash."""
    from credit.services import wallet_topup

    order_id = order(buyer, hit, reorder(buyer, hit, 40)).json()["id"]
    _deliver(order_id, buyer.org)
    wallet_topup(organization=buyer.org, amount=Decimal("5000"), currency="CNY", reference="bank 1")
    response = buyer.client.post("/api/v1/trials/", {
        "name": "Reorder on sale", "kit": hit.kit_id, "mode": "live", "window_days": 30, "order": order_id,
        "arms": [{"label": "shop", "unit_price": "99.00", "units": 40}]}, format="json")
    assert response.status_code == 201, response.json()
    trial = Trial.objects.get(pk=response.json()["id"])
    trial_start(trial=trial, enqueue=False)
    trial = trial_refresh(trial_id=trial.pk)
    assert trial.status == "selling" and trial.order_id == order_id
    return trial


def test_ten_sales_move_exactly_the_share_of_their_revenue_once(buyer, tracked):
    line = CreditLine.objects.get(order_id=tracked.order_id)
    owed_before = -line.accounts.get(kind="payable").balance
    assert owed_before > 0 and Invoice.objects.filter(credit_line=line).exists()
    prices = ["99.00", "89.50", "99.00", "79.99", "99.00", "99.00", "95.25", "99.00", "99.00", "88.88"]
    batch = [{"arm": "shop", "units": 1 + i % 2, "unit_price": price, "sold_at": timezone.now().isoformat(),
              "external_id": f"s-{i}"} for i, price in enumerate(prices)]
    url = f"/api/v1/trials/{tracked.pk}/sales/"
    first = buyer.client.post(url, batch[:6], format="json")
    second = buyer.client.post(url, batch, format="json")  # four new, six replayed
    assert first.status_code == second.status_code == 200, second.json()
    expected = sum(sweep_share(revenue=Decimal(e["unit_price"]) * e["units"], share=Decimal("0.5")) for e in batch)
    swept = sum(Repayment.objects.filter(credit_line=line).values_list("amount", flat=True))
    assert swept == expected
    assert Decimal(first.json()["repayment"]["swept"]) + Decimal(second.json()["repayment"]["swept"]) == expected
    assert -line.accounts.get(kind="payable").balance == owed_before - expected
    assert wallet(buyer.org) == Decimal("5000") - expected
    assert buyer.client.post(url, batch, format="json").json()["repayment"] is None  # all replayed: nothing swept
    assert Repayment.objects.filter(credit_line=line).count() == 2
    assert not ledger_verify().problems


def test_a_stalled_batch_freezes_its_line_and_says_why(buyer, tracked):
    line = CreditLine.objects.get(order_id=tracked.order_id)
    trial_refresh(trial_id=tracked.pk, now=timezone.now() + timedelta(days=10))  # ten days, nothing sold
    line.refresh_from_db()
    assert line.status == "frozen" and line.frozen_reason.startswith("sales stalled") and "p10" in line.frozen_reason


def test_the_trial_page_shows_the_offer_and_cash_plan_and_orders_on_demand_credit(buyer, hit):
    from django.test import Client

    page = Client()
    page.force_login(buyer.user)
    reorder(buyer, hit, 40)
    html = page.get(f"/trials/{hit.pk}/").content.decode()
    assert "Credit the market has earned" in html and "Cash plan of the reorder" in html
    assert "Order the reorder on demand credit" in html
    response = page.post(f"/trials/{hit.pk}/demand-order/")
    line = CreditLine.objects.get(kind="demand", trial_id=hit.pk)
    assert response.status_code == 302 and response["Location"].endswith(f"/orders/{line.order_id}/")
    html = page.get(f"/trials/{hit.pk}/").content.decode()
    assert "Ordered on demand credit" in html
    assert page.get(f"/credit/lines/{line.pk}/").status_code == 200
    again = page.post(f"/trials/{hit.pk}/demand-order/", follow=True)
    assert "already" in again.content.decode() and Order.objects.count() == 1


def test_a_supplier_that_opts_in_lends_from_its_own_wallet(buyer, hit):
    """The kit's solution house opts in with more room than the platform: the offer names it, and
    the order is refused until its wallet can front the other vendors."""
    from credit.services import demand_appetite_set, wallet_topup

    demand_appetite_set(lender=None, currency="CNY", max_per_line=Decimal("100.00"), max_total=Decimal("100.00"),
                        lends_on_simulated=True)
    from rest_framework.test import APIClient

    from tests.marketplace.factories import MembershipFactory

    house = APIClient()
    house.force_authenticate(MembershipFactory(organization=hit.kit.owner).user)
    house.credentials(HTTP_X_ORGANIZATION=str(hit.kit.owner.pk))
    bad = house.put("/api/v1/credit/demand-appetite/", {"currency": "CNY", "max_per_line": "5000.00",
                                                               "max_total": "1000.00"}, format="json")
    assert bad.status_code == 400 and "max_total" in bad.json()
    opted = house.put("/api/v1/credit/demand-appetite/", {
        "currency": "CNY", "max_per_line": "5000.00", "max_total": "20000.00", "repayment_share": "0.6",
        "lends_on_simulated": True}, format="json")
    assert opted.status_code == 200 and opted.json()["room"] == "5000.00"
    assert buyer.client.put("/api/v1/credit/demand-appetite/", opted.json(), format="json").status_code in (403, 400)
    quote = reorder(buyer, hit, 40)
    offer = buyer.client.get(f"/api/v1/trials/{hit.pk}/financing/").json()
    assert offer["lender"] == hit.kit.owner.name and offer["repayment_share"] == "0.600"
    refused = order(buyer, hit, quote)
    assert refused.status_code == 400 and "cannot front" in str(refused.json())
    assert not CreditLine.objects.filter(kind="demand").exists()
    wallet_topup(organization=hit.kit.owner, amount=Decimal("5000"), currency="CNY", reference="house bank 1")
    placed = order(buyer, hit, quote)
    assert placed.status_code == 201, placed.json()
    line = CreditLine.objects.get(kind="demand", trial_id=hit.pk)
    assert line.supplier == hit.kit.owner and wallet(buyer.org) == 0
    exposure = Decimal(house.get("/api/v1/credit/demand-appetite/").json()["exposure"])
    assert exposure == sum(PurchaseOrderPayment.objects.filter(order_id=line.order_id).values_list("total", flat=True))
