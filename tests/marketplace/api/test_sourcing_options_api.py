"""Sourcing options and order terms through the API (contract: "Sourcing options and order
terms"): terms set by a supplier, quotes that pay shipping and respect minimum orders and the
buyer's options, and orders that place exactly the purchase orders the quote priced."""

from decimal import Decimal

import pytest

from marketplace.models import PurchaseOrder, VendorOrderTerms
from tests.marketplace.factories import ListingFactory, OrganizationFactory, PartFactory, make_kit

pytestmark = pytest.mark.django_db


def terms(vendor, shipping="0", free_over=None, min_order="0"):
    return VendorOrderTerms.objects.create(vendor=vendor, currency="CNY", shipping_fee=Decimal(shipping),
                                           free_shipping_over=None if free_over is None else Decimal(free_over),
                                           min_order_value=Decimal(min_order))


@pytest.fixture
def market():
    """Two parts; a broad stall A with everything, a stall B slightly cheaper on one part."""
    a, b = OrganizationFactory(trader=True, name="Stall A"), OrganizationFactory(trader=True, name="Stall B")
    mcu, res = PartFactory(mpn="STM32G030"), PartFactory(mpn="RC0402-10K")
    listings = {
        "a_mcu": ListingFactory(vendor=a, part=mcu, stock=1000, breaks=[(1, "3.00")]),
        "a_res": ListingFactory(vendor=a, part=res, stock=100_000, breaks=[(1, "0.0100")]),
        "b_res": ListingFactory(vendor=b, part=res, stock=100_000, breaks=[(1, "0.0090")]),
    }
    return {"a": a, "b": b, "mcu": mcu, "res": res, **listings}


def test_supplier_sets_order_terms_and_anyone_reads_them(trader, buyer):
    url = f"/api/v1/organizations/{trader.org.pk}/order-terms/"
    assert trader.client.get(url).json()["shipping_fee"] == "0.00"
    response = trader.client.put(url, {"currency": "CNY", "shipping_fee": "12.00", "free_shipping_over": "500.00",
                                       "min_order_value": "50.00"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == {**response.json(), "organization": trader.org.pk, "currency": "CNY",
                               "shipping_fee": "12.00", "free_shipping_over": "500.00", "min_order_value": "50.00"}
    assert buyer.client.get(url).json()["min_order_value"] == "50.00"
    # Replacing them: free shipping dropped when not given.
    trader.client.put(url, {"currency": "CNY", "shipping_fee": "8.00", "min_order_value": "0"}, format="json")
    assert buyer.client.get(url).json()["free_shipping_over"] is None


def test_order_terms_refuse_bad_input_and_other_organisations(trader, buyer):
    url = f"/api/v1/organizations/{trader.org.pk}/order-terms/"
    for body in ({"currency": "CNY", "shipping_fee": "-1", "min_order_value": "0"},
                 {"currency": "EUR", "shipping_fee": "1", "min_order_value": "0"},
                 {"currency": "CNY", "shipping_fee": "abc", "min_order_value": "0"},
                 {"currency": "CNY", "shipping_fee": "1.001", "min_order_value": "0"}):
        response = trader.client.put(url, body, format="json")
        assert response.status_code == 400, body
    assert not VendorOrderTerms.objects.exists()
    # A buyer cannot set a trader's terms; nor has a buyer any terms to set.
    assert buyer.client.put(url, {"currency": "CNY", "shipping_fee": "0", "min_order_value": "0"},
                            format="json").status_code == 403
    own = f"/api/v1/organizations/{buyer.org.pk}/order-terms/"
    assert buyer.client.put(own, {"currency": "CNY", "shipping_fee": "0", "min_order_value": "0"},
                            format="json").status_code == 400


def test_quote_pays_shipping_once_per_vendor_and_reports_vendors(buyer, market):
    terms(market["a"], shipping="10.00")
    terms(market["b"], shipping="10.00")
    kit = make_kit(bom=[(market["mcu"], 1), (market["res"], 10)])
    response = buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 100}, format="json")
    assert response.status_code == 201, response.json()
    q = response.json()
    # Stall B would save 0.0010 × 1000 = 1.00 on resistors but costs another 10.00 shipment.
    assert [v["name"] for v in q["vendors"]] == ["Stall A"]
    assert q["vendors"][0] == {"vendor": market["a"].pk, "name": "Stall A", "subtotal": "310.00", "shipping": "10.00",
                               "lead_time_days": 0, "on_time_rate": None}  # no shipped orders yet
    assert q["shipping_cost"] == "10.00" and q["components_cost"] == "310.00" and q["total"] == "320.00"
    assert q["optimality_gap"] == "0.000000"
    assert q["options"] == {"max_vendors": None, "allow_substitutes": None, "max_lead_time_days": None,
                            "exclude_vendors": [], "currency": None, "assembly": "author", "processes": ["smt"]}


def test_without_terms_the_cheapest_stall_per_line_wins(buyer, market):
    kit = make_kit(bom=[(market["mcu"], 1), (market["res"], 10)])
    q = buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 100}, format="json").json()
    assert [v["name"] for v in q["vendors"]] == ["Stall A", "Stall B"]
    assert q["shipping_cost"] == "0.00" and q["total"] == "309.00"


def test_minimum_order_value_is_never_undercut(buyer, market):
    terms(market["b"], min_order="50.00")  # B's resistors alone would be a 9.00 order
    kit = make_kit(bom=[(market["mcu"], 1), (market["res"], 10)])
    q = buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 100}, format="json").json()
    assert [v["name"] for v in q["vendors"]] == ["Stall A"]


def test_options_exclude_vendors_cap_and_lead_time(buyer, market):
    kit = make_kit(bom=[(market["mcu"], 1), (market["res"], 10)])
    url = f"/api/v1/kits/{kit.pk}/quote/"
    q = buyer.client.post(url, {"quantity": 100, "options": {"max_vendors": 1}}, format="json").json()
    assert [v["name"] for v in q["vendors"]] == ["Stall A"] and q["total"] == "310.00"
    q = buyer.client.post(url, {"quantity": 100, "options": {"exclude_vendors": [market["a"].pk]}}, format="json").json()
    assert [v["name"] for v in q["vendors"]] == ["Stall B"] and q["shortages"][0]["part"] == market["mcu"].pk
    ListingFactory(vendor=market["b"], part=market["mcu"], stock=1000, lead_time_days=30, breaks=[(1, "2.00")])
    q = buyer.client.post(url, {"quantity": 100, "options": {"max_lead_time_days": 7}}, format="json").json()
    assert q["components_cost"] == "309.00"  # the slow, cheaper MCU is not used
    assert q["options"]["max_lead_time_days"] == 7


def test_substitutes_only_where_the_bom_lists_them_and_never_when_refused(buyer, market):
    alt = PartFactory(mpn="RC0402-10K-ALT")
    ListingFactory(part=alt, stock=100_000, breaks=[(1, "0.0010")])
    kit = make_kit(bom=[(market["res"], 10)])
    url = f"/api/v1/kits/{kit.pk}/quote/"
    q = buyer.client.post(url, {"quantity": 100}, format="json").json()
    assert all(a["part"] == market["res"].pk for a in q["lines"][0]["allocations"])  # not listed: never used
    kit.bom_lines.get().substitutes.add(alt)
    kit.frozen = False
    kit.save(update_fields=["frozen"])
    q = buyer.client.post(url, {"quantity": 100}, format="json").json()
    assert q["lines"][0]["allocations"][0]["part"] == alt.pk
    q = buyer.client.post(url, {"quantity": 100, "options": {"allow_substitutes": False}}, format="json").json()
    assert all(a["part"] == market["res"].pk for a in q["lines"][0]["allocations"])


@pytest.mark.parametrize("options,field", [
    ({"max_vendors": 0}, "max_vendors"),
    ({"max_vendors": "five"}, "max_vendors"),
    ({"max_lead_time_days": -1}, "max_lead_time_days"),
    ({"exclude_vendors": "3"}, "exclude_vendors"),
    ({"exclude_vendors": [0]}, "exclude_vendors"),
    ({"allow_substitutes": "maybe"}, "allow_substitutes"),
    ({"currency": "USD"}, "currency"),
    ({"cheapest": True}, "cheapest"),
])
def test_bad_options_are_clear_400s_and_save_nothing(buyer, market, options, field):
    kit = make_kit(bom=[(market["mcu"], 1)])
    response = buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 10, "options": options}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert field in str(body.get("options") or body), body
    assert not kit.quotes.exists()


def test_currency_equal_to_the_kits_is_accepted(buyer, market):
    kit = make_kit(bom=[(market["mcu"], 1)])
    response = buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 10, "options": {"currency": "CNY"}},
                                 format="json")
    assert response.status_code == 201 and response.json()["currency"] == "CNY"


def test_order_places_exactly_the_purchase_orders_the_quote_priced(buyer, fund, market):
    fund(buyer.org)
    terms(market["a"], shipping="10.00", free_over="1000.00")
    terms(market["b"], shipping="4.00")
    kit = make_kit(bom=[(market["mcu"], 1), (market["res"], 10)])
    # 2,000 resistors: B would save 2.00 on them but charges 4.00 shipping, so A alone (620.00,
    # under its free-shipping threshold: 10.00 shipping).
    q = buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 200}, format="json").json()
    order = buyer.client.post("/api/v1/orders/", {"quote": q["id"], "payment": "deposit"}, format="json").json()
    pos = PurchaseOrder.objects.filter(order_id=order["id"]).order_by("vendor_id")
    assert [(po.vendor_id, po.total) for po in pos] == [
        (v["vendor"], Decimal(v["subtotal"]) + Decimal(v["shipping"])) for v in q["vendors"]]
    assert Decimal(order["total"]) == Decimal(q["total"])
    assert q["shipping_cost"] == "10.00" and len(pos) == 1
    assert pos[0].lines.get(listing=None, description="Shipping").extended_price == Decimal("10.00")
