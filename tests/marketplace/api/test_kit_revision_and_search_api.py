"""Kit revisions through the API, and the search filters buyers rely on."""

from decimal import Decimal

import pytest

from marketplace.models import Kit
from tests.marketplace.factories import ListingFactory, OrganizationFactory, PartFactory, make_kit

pytestmark = pytest.mark.django_db


def test_editing_a_quoted_kit_makes_a_new_revision_and_the_quote_keeps_the_old(solution_house, buyer):
    part = PartFactory()
    ListingFactory(part=part)
    kit = make_kit(owner=solution_house.org, bom=[(part, 1)], nre="100")
    quote = buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 10}, format="json").json()
    response = solution_house.client.patch(f"/api/v1/kits/{kit.pk}/", {"nre": "250"}, format="json")
    assert response.status_code == 200
    revised = response.json()
    assert revised["id"] != kit.pk and revised["revision"] == 2 and revised["family"] == kit.pk and revised["nre"] == "250.00"
    assert buyer.client.get(f"/api/v1/quotes/{quote['id']}/").json()["kit_revision"] == 1
    assert [k["id"] for k in buyer.client.get("/api/v1/kits/").json()["results"]] == [revised["id"]]
    # Only the owner edits; an old revision is not edited.
    assert buyer.client.patch(f"/api/v1/kits/{revised['id']}/", {"nre": "1"}, format="json").status_code == 404
    assert solution_house.client.patch(f"/api/v1/kits/{kit.pk}/", {"nre": "1"}, format="json").status_code == 400
    assert Kit.objects.get(pk=kit.pk).nre == Decimal("100")


def test_search_by_parameters_category_vendor_and_currency(buyer):
    qfn = PartFactory(mpn="NRF52810-QCAA", category="Wireless SoC", parameters={"package": "QFN32", "radio": "BLE"})
    wlcsp = PartFactory(mpn="NRF52810-CAAA", category="Wireless SoC", parameters={"package": "WLCSP", "radio": "BLE"})
    a = ListingFactory(part=qfn)
    b = ListingFactory(part=wlcsp, currency="USD")

    def ids(**params):
        return [r["id"] for r in buyer.client.get("/api/v1/listings/", params).json()["results"]]

    assert ids(parameters="package:QFN32") == [a.pk]
    assert ids(category="wireless soc") == [a.pk, b.pk]
    assert ids(vendor=b.vendor_id) == [b.pk]
    assert ids(mpn="nrf52810", listing_currency="USD") == [b.pk]  # `currency=` is the display currency
    assert ids(mpn="nrf52810", currency="USD") == [a.pk, b.pk]
    assert ids(q="nrf52810 ble") == [a.pk, b.pk]  # every word matches the MPN or the description
    assert ids(q="nrf52810 zigbee") == []


def test_listing_detail_hides_unverified_vendors_from_others_but_not_from_themselves(buyer, make_member):
    vendor = make_member(trader=True, verified=False, name="New Stall")
    listing = ListingFactory(vendor=vendor.org)
    assert buyer.client.get(f"/api/v1/listings/{listing.pk}/").status_code == 404
    assert vendor.client.get(f"/api/v1/listings/{listing.pk}/").status_code == 200


@pytest.mark.parametrize("ordering", ["unit_price_at_qty", "-unit_price_at_qty"])
def test_category_browse_at_qty_pages_by_price(buyer, ordering, monkeypatch):
    """The price-bounded category browse pages like a full sort: every page, the count and the
    links, and an unverified vendor's cheap listing stays hidden."""
    from marketplace.catalogue.search.engine import Engine

    monkeypatch.setattr(Engine, "DIRECT_LIMIT", 2)  # so that 8 matches take the bounded path
    monkeypatch.setattr(Engine, "SAMPLES", (1, 2, 80))
    prices = ["0.90", "0.35", "0.50", "0.35", "1.20", "0.10", "0.75", "0.60"]
    listings = [ListingFactory(part=PartFactory(category="LDO", description="600 mA"), breaks=[(1, p)]) for p in prices]
    ListingFactory(part=PartFactory(category="LDO"), breaks=[(1, "0.01")],
                   vendor=OrganizationFactory(trader=True, verified=False))
    ListingFactory(part=PartFactory(category="MCU"), breaks=[(1, "0.02")])
    sign = -1 if ordering.startswith("-") else 1  # descending price still breaks ties by ascending id
    expected = [l.pk for l, p in sorted(zip(listings, prices), key=lambda lp: (sign * Decimal(lp[1]), lp[0].pk))]
    seen = []
    for page in (1, 2, 3):
        body = buyer.client.get("/api/v1/listings/", {"category": "ldo", "q": "600", "qty": 10, "ordering": ordering,
                                                      "page": page, "page_size": 3, "exact_count": 1}).json()
        assert body["count"] == 8 and body["count_is_estimate"] is False
        assert (body["next"] is None) == (page == 3)
        seen += [r["id"] for r in body["results"]]
    assert seen == expected
