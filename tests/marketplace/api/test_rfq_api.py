"""RFQs through the API: who sees what (the 404/403 matrix), bidding rules, award → quote → order."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from marketplace.models import Listing, Notification, Rfq
from tests.marketplace.factories import ListingFactory, MembershipFactory, PartFactory, make_kit

pytestmark = pytest.mark.django_db


def _later(**kw) -> str:
    return (timezone.now() + timedelta(**(kw or {"days": 2}))).isoformat()


@pytest.fixture
def mcu():
    return PartFactory(mpn="STM32G030F6P6", manufacturer="ST", category="MCU")


@pytest.fixture
def fitting_trader(make_member, mcu):
    """A verified trader whose catalogue has an MCU (the category fits)."""
    member = make_member(trader=True, name="Hua Xin")
    ListingFactory(vendor=member.org, part=PartFactory(category="MCU"), stock=10)
    return member


def _rfq(buyer, **overrides):
    body = {"title": "MCUs for rev B", "currency": "CNY", "closes_at": _later(),
            "lines": [{"manufacturer": "ST", "mpn": "STM32G030F6P6", "quantity": 500, "target_unit_price": "2.10"}]}
    body.update(overrides)
    response = buyer.client.post("/api/v1/rfqs/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def _bid(member, rfq, *, breaks=((1, "2.50"), (250, "2.20")), qty=500, line=None, **extra):
    body = {"valid_until": _later(days=10), "lines": [
        {"line": line or rfq["lines"][0]["line"], "quantity_available": qty, "moq": 1, "multiple": 1, "lead_time_days": 3,
         "price_breaks": [{"min_qty": q, "unit_price": p} for q, p in breaks]}], **extra}
    return member.client.post(f"/api/v1/rfqs/{rfq['id']}/bids/", body, format="json")


def test_buyer_asks_and_fitting_verified_supplier_sees_it_on_the_board(buyer, fitting_trader, mcu):
    rfq = _rfq(buyer)
    assert rfq["status"] == "open" and rfq["lines"][0]["part"] == mcu.pk and rfq["lines"][0]["category"] == "MCU"
    board = fitting_trader.client.get("/api/v1/rfqs/?role=supplier").json()
    assert [r["id"] for r in board["results"]] == [rfq["id"]]
    assert fitting_trader.client.get(f"/api/v1/rfqs/{rfq['id']}/").status_code == 200
    assert Notification.objects.filter(organization=fitting_trader.org, kind="rfq_new", rfq_id=rfq["id"]).exists()


def test_visibility_matrix(buyer, make_member, fitting_trader, mcu):
    rfq = _rfq(buyer)
    other_buyer = make_member(name="Other buyer")
    unverified = make_member(trader=True, verified=False)
    ListingFactory(vendor=unverified.org, part=PartFactory(category="MCU"))
    unfitting = make_member(trader=True)
    ListingFactory(vendor=unfitting.org, part=PartFactory(category="Connectors"))
    path = f"/api/v1/rfqs/{rfq['id']}/"
    assert other_buyer.client.get(path).status_code == 404
    assert other_buyer.client.get("/api/v1/rfqs/").json()["count"] == 0
    assert other_buyer.client.get("/api/v1/rfqs/?role=supplier").status_code == 403
    assert unverified.client.get(path).status_code == 403
    assert unverified.client.get("/api/v1/rfqs/999999/").status_code == 403  # the same for ids that do not exist
    assert unverified.client.get("/api/v1/rfqs/?role=supplier").status_code == 403
    assert unfitting.client.get(path).status_code == 404
    assert unfitting.client.get("/api/v1/rfqs/?role=supplier").json()["count"] == 0
    # Bidding: non-suppliers and unverified suppliers are refused outright (403).
    assert _bid(other_buyer, rfq).status_code == 403
    assert _bid(unverified, rfq).status_code == 403
    assert _bid(unfitting, rfq).status_code == 404


def test_bidders_see_only_their_own_bids_and_the_buyer_sees_all(buyer, make_member, fitting_trader, mcu):
    rfq = _rfq(buyer)
    second = make_member(trader=True, name="Second")
    ListingFactory(vendor=second.org, part=mcu)  # fits by MPN
    mine = _bid(fitting_trader, rfq).json()
    theirs = _bid(second, rfq, breaks=((1, "2.40"),)).json()
    seen = fitting_trader.client.get(f"/api/v1/rfqs/{rfq['id']}/").json()["bids"]
    assert [b["id"] for b in seen] == [mine["id"]] and "standing" not in seen[0]
    assert [b["id"] for b in fitting_trader.client.get(f"/api/v1/rfqs/{rfq['id']}/bids/").json()["results"]] == [mine["id"]]
    assert [b["id"] for b in fitting_trader.client.get("/api/v1/bids/").json()["results"]] == [mine["id"]]
    board = fitting_trader.client.get("/api/v1/rfqs/?role=supplier").json()["results"]
    assert [r["id"] for r in board] == [rfq["id"]] and "bids" not in board[0]  # lists never carry bids
    assert "bids" not in buyer.client.get("/api/v1/rfqs/").json()["results"][0]
    compare = buyer.client.get(f"/api/v1/rfqs/{rfq['id']}/").json()["bids"]
    assert [b["id"] for b in compare] == [mine["id"], theirs["id"]]
    assert compare[0]["standing"]["fulfilment"]["received"] == 0 and compare[0]["standing"]["credit_line"] is None
    assert compare[0]["standing"]["trust"] is None  # private: the buyer and this bidder share no credit line
    assert Notification.objects.filter(organization=buyer.org, kind="bid_new").count() == 2


def test_buyer_sees_the_credit_line_and_trust_of_a_bidder_it_shares_a_credit_line_with(buyer, fitting_trader):
    from credit.services import credit_line_grant

    credit_line_grant(supplier=fitting_trader.org, buyer=buyer.org, limit=Decimal("5000"), currency="CNY", terms_days=30)
    rfq = _rfq(buyer)
    _bid(fitting_trader, rfq)
    standing = buyer.client.get(f"/api/v1/rfqs/{rfq['id']}/").json()["bids"][0]["standing"]
    assert standing["credit_line"]["limit"] == "5000.00" and standing["credit_line"]["available"] == "5000.00"
    assert 0 <= standing["trust"]["score"] <= 100 and standing["trust"]["reasons"][0] == "Base score (+10)"


def test_bid_rules(buyer, fitting_trader, mcu):
    rfq = _rfq(buyer)
    other = _rfq(buyer, title="Other")
    rising = _bid(fitting_trader, rfq, breaks=((1, "2.00"), (100, "2.50")))
    assert rising.status_code == 400 and "cannot cost more" in str(rising.json())
    foreign = _bid(fitting_trader, rfq, line=other["lines"][0]["line"])
    assert foreign.status_code == 400 and "not a line of" in str(foreign.json())
    first = _bid(fitting_trader, rfq)
    assert first.status_code == 201 and first.json()["revision"] == 1
    revised = _bid(fitting_trader, rfq, breaks=((1, "2.30"),))
    assert revised.status_code == 200 and revised.json()["revision"] == 2 and revised.json()["id"] == first.json()["id"]
    assert revised.json()["lines"][0]["price_breaks"] == [{"min_qty": 1, "unit_price": "2.30"}]
    Rfq.objects.filter(pk=rfq["id"]).update(closes_at=timezone.now() - timedelta(seconds=1))
    assert _bid(fitting_trader, rfq).status_code == 409


def test_cap_on_bids_closes_the_rfq(buyer, make_member, fitting_trader, mcu):
    rfq = _rfq(buyer, max_bids=1)
    assert _bid(fitting_trader, rfq).status_code == 201
    assert Rfq.objects.get(pk=rfq["id"]).status == "closed"
    late = make_member(trader=True)
    ListingFactory(vendor=late.org, part=mcu)
    assert _bid(late, rfq).status_code == 404  # a closed RFQ leaves the board of those who did not bid
    assert _bid(fitting_trader, rfq).status_code == 409  # and the bidder can no longer revise


def test_award_rules(buyer, make_member, fitting_trader, mcu):
    rfq = _rfq(buyer)
    other = _rfq(buyer, title="Other")
    bid = _bid(fitting_trader, rfq).json()
    foreign = _bid(fitting_trader, other).json()
    assert buyer.client.post(f"/api/v1/rfqs/{rfq['id']}/award/", {"bids": [foreign["id"]]}, format="json").status_code == 400
    assert fitting_trader.client.post(f"/api/v1/rfqs/{rfq['id']}/award/", {"bids": [bid["id"]]}, format="json").status_code == 404
    from marketplace.models import Bid

    Bid.objects.filter(pk=bid["id"]).update(valid_until=timezone.now() - timedelta(minutes=1))
    expired = buyer.client.post(f"/api/v1/rfqs/{rfq['id']}/award/", {"bids": [bid["id"]]}, format="json")
    assert expired.status_code == 400 and "expired" in str(expired.json())
    assert Listing.objects.filter(reserved_for=buyer.org).count() == 0


def test_award_then_requote_sources_the_awarded_offer_and_the_order_reserves_it(buyer, fitting_trader, mcu, fund):
    fund(buyer.org)
    kit = make_kit(bom=[(mcu, 1)])
    quote = buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 400}, format="json").json()
    assert quote["shortages"] == [{"part": mcu.pk, "mpn": mcu.mpn, "shortfall": 400}]
    response = buyer.client.post("/api/v1/rfqs/", {"from_quote": quote["id"]}, format="json")
    assert response.status_code == 201, response.json()
    rfq = response.json()
    assert rfq["source_quote"] == quote["id"] and [(l["part"], l["quantity"]) for l in rfq["lines"]] == [(mcu.pk, 400)]
    bid = _bid(fitting_trader, rfq, qty=500).json()
    awarded = buyer.client.post(f"/api/v1/rfqs/{rfq['id']}/award/", {"bids": [bid["id"]]}, format="json")
    assert awarded.status_code == 200 and awarded.json()["status"] == "awarded"
    listing_id = awarded.json()["bids"][0]["lines"][0]["awarded_listing"]
    # Nobody else can see or buy the awarded offer.
    assert buyer.client.get(f"/api/v1/listings/{listing_id}/").status_code == 404
    assert fitting_trader.client.get(f"/api/v1/listings/?mpn={mcu.mpn}").json()["count"] == 0

    requote = buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 400}, format="json").json()
    assert requote["shortages"] == []
    (alloc,) = requote["lines"][0]["allocations"]
    assert (alloc["listing"], alloc["quantity"], alloc["unit_price"]) == (listing_id, 400, "2.20")
    order = buyer.client.post("/api/v1/orders/", {"quote": requote["id"], "payment": "deposit"}, format="json")
    assert order.status_code == 201, order.json()
    assert Listing.objects.get(pk=listing_id).stock == 100
    # The rest of the awarded quantity can be ordered directly by the listing id, and no more.
    more = buyer.client.post("/api/v1/orders/", {"lines": [{"listing": listing_id, "quantity": 100}], "payment": "deposit"},
                             format="json")
    assert more.status_code == 201, more.json()
    again = buyer.client.post("/api/v1/orders/", {"lines": [{"listing": listing_id, "quantity": 1}], "payment": "deposit"},
                              format="json")
    assert again.status_code == 409


def test_other_buyers_quotes_never_use_an_awarded_offer(buyer, make_member, fitting_trader, mcu):
    kit = make_kit(bom=[(mcu, 1)])
    rfq = _rfq(buyer)
    bid = _bid(fitting_trader, rfq).json()
    buyer.client.post(f"/api/v1/rfqs/{rfq['id']}/award/", {"bids": [bid["id"]]}, format="json")
    someone = make_member(name="Someone else")
    quote = someone.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 10}, format="json").json()
    assert quote["shortages"][0]["shortfall"] == 10
    listing_id = Listing.objects.get(reserved_for=buyer.org).pk
    refused = someone.client.post("/api/v1/orders/", {"lines": [{"listing": listing_id, "quantity": 1}], "payment": "deposit"},
                                  format="json")
    assert refused.status_code == 400


def test_partial_order_orders_what_is_there_and_asks_for_the_rest(buyer, fitting_trader, mcu, fund):
    fund(buyer.org)
    cap = PartFactory(mpn="CL05B104KO5NNNC", manufacturer="Samsung", category="Capacitors")
    cap_listing = ListingFactory(part=cap, stock=1000, breaks=[(1, "0.01")])
    kit = make_kit(bom=[(mcu, 1), (cap, 2)])
    quote = buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 100}, format="json").json()
    whole = buyer.client.post("/api/v1/orders/", {"quote": quote["id"], "payment": "deposit"}, format="json")
    assert whole.status_code == 400
    response = buyer.client.post("/api/v1/orders/", {"quote": quote["id"], "payment": "deposit", "partial": True},
                                 format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["total"] == "2.00" and Listing.objects.get(pk=cap_listing.pk).stock == 800
    rfq = buyer.client.get(f"/api/v1/rfqs/{body['rfq']}/").json()
    assert rfq["source_order"] == body["id"] and [(l["part"], l["quantity"]) for l in rfq["lines"]] == [(mcu.pk, 100)]


def test_bad_rfq_input_is_a_400_and_creates_nothing(buyer, mcu):
    cases = [
        {"title": "x", "closes_at": _later(), "lines": []},
        {"title": "x", "closes_at": (timezone.now() - timedelta(hours=1)).isoformat(), "lines": [{"mpn": "A1", "quantity": 1}]},
        {"title": "x", "closes_at": _later(), "lines": [{"mpn": "--", "quantity": 1}]},
        {"title": "x", "closes_at": _later(), "lines": [{"mpn": "A1", "quantity": 0}]},
        {"title": "x", "closes_at": _later(), "lines": [{"mpn": "A1", "quantity": 1}], "from_quote": 1},
        {"from_quote": 2**70},
    ]
    for body in cases:
        assert buyer.client.post("/api/v1/rfqs/", body, format="json").status_code == 400, body
    assert Rfq.objects.count() == 0


def test_a_quote_with_nothing_short_cannot_become_an_rfq(buyer, mcu):
    ListingFactory(part=mcu, stock=1000)
    kit = make_kit(bom=[(mcu, 1)])
    quote = buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 10}, format="json").json()
    response = buyer.client.post("/api/v1/rfqs/", {"from_quote": quote["id"]}, format="json")
    assert response.status_code == 400 and "not short" in str(response.json())


def test_viewer_cannot_create_rfqs(buyer):
    from organizations.models import Membership

    Membership.objects.filter(user=buyer.user).update(role="viewer")
    assert buyer.client.post("/api/v1/rfqs/", {"title": "x", "closes_at": _later(),
                                               "lines": [{"mpn": "A1", "quantity": 1}]}, format="json").status_code == 403


def test_capabilities_and_market_webhooks_are_for_admins(factory_org, make_member):
    member = MembershipFactory(organization=factory_org.org, role="member")
    client = APIClient()
    client.force_authenticate(member.user)
    client.credentials(HTTP_X_ORGANIZATION=str(factory_org.org.pk))
    body = {"processes": ["smt", "testing"], "min_batch": 100, "max_batch": 10000, "weekly_capacity": 1500, "lead_time_days": 5}
    path = f"/api/v1/organizations/{factory_org.org.pk}/capabilities/"
    assert client.put(path, body, format="json").status_code == 403
    assert client.post("/api/v1/market-webhooks/", {"url": "https://erp.example/h"}, format="json").status_code == 403
    saved = factory_org.client.put(path, body, format="json")
    assert saved.status_code == 200 and saved.json()["processes"] == ["smt", "testing"]
    assert make_member(name="Anyone").client.get(path).json()["weekly_capacity"] == 1500  # public, like the profile
    bad = factory_org.client.put(path, {"min_batch": 500, "max_batch": 10}, format="json")
    assert bad.status_code == 400 and "max_batch" in bad.json()
    hook = factory_org.client.post("/api/v1/market-webhooks/", {"url": "https://erp.example/h"}, format="json")
    assert hook.status_code == 201 and len(hook.json()["secret"]) == 64
    assert factory_org.client.delete(f"/api/v1/market-webhooks/{hook.json()['id']}/").status_code == 204


def test_inbox_lists_and_marks_read(buyer, fitting_trader):
    _rfq(buyer)
    inbox = fitting_trader.client.get("/api/v1/notifications/?unread=1").json()
    assert inbox["count"] == 1 and inbox["results"][0]["kind"] == "rfq_new"
    assert fitting_trader.client.post("/api/v1/notifications/read/", {}, format="json").json() == {"marked": 1}
    assert fitting_trader.client.get("/api/v1/notifications/?unread=1").json()["count"] == 0
    assert buyer.client.get("/api/v1/notifications/").json()["count"] == 0  # each organisation its own inbox


def test_from_quote_asks_for_a_bom_quotes_unsourced_lines_too(buyer, mcu):
    kit = make_kit(bom=[(mcu, 1)])
    quote = buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 10}, format="json").json()
    from marketplace.models import Quote

    Quote.objects.filter(pk=quote["id"]).update(unsourced=[{"line": 3, "mpn": "XC6206P332MR", "quantity": 20},
                                                           {"line": 4, "mpn": "", "quantity": 5}])
    rfq = buyer.client.post("/api/v1/rfqs/", {"from_quote": quote["id"]}, format="json").json()
    assert [(l["mpn"], l["quantity"]) for l in rfq["lines"]] == [(mcu.mpn, 10), ("XC6206P332MR", 20)]


def test_buyer_closes_early_then_cancels(buyer, fitting_trader):
    rfq = _rfq(buyer)
    bid = _bid(fitting_trader, rfq).json()
    assert fitting_trader.client.post(f"/api/v1/rfqs/{rfq['id']}/close/").status_code == 404  # not the bidder's to close
    assert buyer.client.post(f"/api/v1/rfqs/{rfq['id']}/close/").json()["status"] == "closed"
    assert _bid(fitting_trader, rfq).status_code == 409  # its bid stays, but can no longer be revised
    assert buyer.client.post(f"/api/v1/rfqs/{rfq['id']}/cancel/").json()["status"] == "cancelled"
    assert buyer.client.post(f"/api/v1/rfqs/{rfq['id']}/award/", {"bids": [bid["id"]]}, format="json").status_code == 409


def test_an_expired_award_is_no_longer_quoted_or_ordered(buyer, fitting_trader, mcu, fund):
    fund(buyer.org)
    kit = make_kit(bom=[(mcu, 1)])
    rfq = _rfq(buyer)
    bid = _bid(fitting_trader, rfq).json()
    buyer.client.post(f"/api/v1/rfqs/{rfq['id']}/award/", {"bids": [bid["id"]]}, format="json")
    quote = buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 10}, format="json").json()
    assert quote["shortages"] == []
    Listing.objects.filter(reserved_for=buyer.org).update(expires_at=timezone.now() - timedelta(seconds=1))
    refused = buyer.client.post("/api/v1/orders/", {"quote": quote["id"], "payment": "deposit"}, format="json")
    assert refused.status_code == 400 and "expired" in str(refused.json())
    requote = buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 10}, format="json").json()
    assert requote["shortages"][0]["shortfall"] == 10


def test_quote_options_apply_to_awarded_offers_too(buyer, fitting_trader, mcu):
    kit = make_kit(bom=[(mcu, 1)])
    rfq = _rfq(buyer)
    bid = _bid(fitting_trader, rfq).json()  # lead time 3 days
    buyer.client.post(f"/api/v1/rfqs/{rfq['id']}/award/", {"bids": [bid["id"]]}, format="json")
    path = f"/api/v1/kits/{kit.pk}/quote/"
    assert buyer.client.post(path, {"quantity": 10}, format="json").json()["shortages"] == []
    for options in ({"exclude_vendors": [fitting_trader.org.pk]}, {"max_lead_time_days": 2}):
        quote = buyer.client.post(path, {"quantity": 10, "options": options}, format="json")
        assert quote.status_code == 201, quote.json()
        assert quote.json()["shortages"][0]["shortfall"] == 10, options


def test_an_order_sent_partly_to_an_rfq_is_completed_from_the_award_in_one_step(buyer, fitting_trader, mcu, fund):
    """Order what is there, ask the market for the rest, award, then "complete order N": the
    remainder only (the MCUs), from the award, parts only — and the order then lacks nothing."""
    fund(buyer.org)
    cap = PartFactory(mpn="CL05B104KO5NNNC", manufacturer="Samsung", category="Capacitors")
    ListingFactory(part=cap, stock=1000, breaks=[(1, "0.01")])
    kit = make_kit(bom=[(mcu, 1), (cap, 2)])
    quote = buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 100}, format="json").json()
    first = buyer.client.post("/api/v1/orders/", {"quote": quote["id"], "payment": "deposit", "partial": True},
                              format="json").json()
    # Before the award the remainder is still short: completing is refused and keeps nothing.
    refused = buyer.client.post(f"/api/v1/orders/{first['id']}/complete/", {"payment": "deposit"}, format="json")
    assert refused.status_code == 400 and "still short" in str(refused.json())
    from marketplace.models import Order, Quote

    assert Order.objects.count() == 1 and Quote.objects.filter(remainder_of=first["id"]).count() == 0

    rfq = buyer.client.get(f"/api/v1/rfqs/{first['rfq']}/").json()
    bid = _bid(fitting_trader, rfq, qty=300).json()
    buyer.client.post(f"/api/v1/rfqs/{rfq['id']}/award/", {"bids": [bid["id"]]}, format="json")
    remainder = buyer.client.post(f"/api/v1/orders/{first['id']}/remainder-quote/", {}, format="json")
    assert remainder.status_code == 201, remainder.json()
    body = remainder.json()
    assert body["remainder_of"] == first["id"] and body["shortages"] == []
    assert [(line["part"], line["needed_qty"]) for line in body["lines"]] == [(mcu.pk, 100)]  # not the caps again
    assert body["total"] == "250.00"  # 100 × 2.50 from the award (2.20 only from 250); no assembly or fees again

    done = buyer.client.post(f"/api/v1/orders/{first['id']}/complete/", {"payment": "deposit"}, format="json",
                             HTTP_IDEMPOTENCY_KEY="complete-1")
    assert done.status_code == 201, done.json()
    assert done.json()["total"] == "250.00"
    assert Listing.objects.get(reserved_for=buyer.org).stock == 200
    # Nothing is missing any more; and only the buyer may ask.
    again = buyer.client.post(f"/api/v1/orders/{first['id']}/remainder-quote/", {}, format="json")
    assert again.status_code == 400 and "lacks nothing" in str(again.json())
    assert fitting_trader.client.post(f"/api/v1/orders/{first['id']}/complete/", {"payment": "deposit"},
                                      format="json").status_code == 404
