"""The buyer's stock list and purchase plans through the API: import stock, plan two BOMs and a
kit together net of it, see the saving, order the plan in one call; others never see it."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from marketplace.models import BuyerStock, PurchasePlan, Quote, VendorOrderTerms
from organizations.models import Membership
from tests.marketplace.factories import ListingFactory, OrganizationFactory, PartFactory, make_kit

pytestmark = pytest.mark.django_db


@pytest.fixture
def market():
    vendor = OrganizationFactory(trader=True, name="Reel Co")
    VendorOrderTerms.objects.create(vendor=vendor, currency="CNY", shipping_fee=Decimal("5.00"))
    parts = {
        "res": PartFactory(manufacturer="Yageo", mpn="RC0603FR-0710KL"),
        "cap": PartFactory(manufacturer="Murata", mpn="GRM155R71C104KA88D"),
        "mcu": PartFactory(manufacturer="STMicroelectronics", mpn="STM32F103C8T6"),
    }
    ListingFactory(vendor=vendor, part=parts["res"], moq=100, stock=100_000, breaks=[(100, "0.10")])
    ListingFactory(vendor=vendor, part=parts["cap"], moq=100, stock=100_000, breaks=[(100, "0.05")])
    ListingFactory(vendor=vendor, part=parts["mcu"], stock=1_000, breaks=[(1, "6.00")])
    parts["kit"] = make_kit(OrganizationFactory(solution_house=True), bom=[(parts["res"], 2), (parts["cap"], 2)],
                            name="Relay board")
    return parts


def upload_bom(member, text: str, name: str):
    response = member.client.post("/api/v1/boms/", {"file": SimpleUploadedFile(f"{name}.csv", text.encode()),
                                                    "name": name}, format="multipart")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def upload_stock(member, text: str, **extra):
    return member.client.post("/api/v1/stock/import/", {"file": SimpleUploadedFile("stock.csv", text.encode()), **extra},
                              format="multipart")


BOM_A = "Reference,Qty,Manufacturer,MPN\nR1-R3,3,Yageo,RC0603FR-0710KL\nU1,1,ST,STM32F103C8T6\nJ9,1,Nobody,NOT-A-REAL-PART-9\n"
BOM_B = "Reference,Qty,Manufacturer,MPN\nR1-R2,2,Yageo,RC0603FR-0710KL\nC1-C4,4,Murata,GRM155R71C104KA88D\n"


def test_stock_list_import_edit_and_read(buyer, market):
    response = upload_stock(buyer, "MPN,Manufacturer,On hand,Location\n"
                                   "RC0603FR-0710KL,Yageo,120,Bin 4\n"
                                   "rc0603fr-0710kl,Yageo,30,Bin 5\n"          # the same part: added up
                                   f"X,,5,\n"                                   # no such part: skipped, not an error
                                   "STM32F103C8T6,ST,2,\n")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["rows"], body["created"], body["updated"]) == (4, 2, 0)
    assert [(s["row"], s["mpn"]) for s in body["skipped"]] == [(4, "X")]
    listed = buyer.client.get("/api/v1/stock/").json()
    assert listed["count"] == 2
    by_mpn = {r["part"]["mpn"]: r for r in listed["results"]}
    assert by_mpn["RC0603FR-0710KL"]["quantity"] == 150 and by_mpn["RC0603FR-0710KL"]["note"] == "Bin 4; Bin 5"
    mcu = market["mcu"].pk
    assert buyer.client.patch(f"/api/v1/stock/{mcu}/", {"quantity": 7}, format="json").json()["quantity"] == 7
    assert buyer.client.put(f"/api/v1/stock/{market['cap'].pk}/", {"quantity": 40}, format="json").status_code == 200
    assert BuyerStock.objects.filter(organization=buyer.org).count() == 3
    assert buyer.client.delete(f"/api/v1/stock/{mcu}/").status_code == 204
    assert buyer.client.get(f"/api/v1/stock/{mcu}/").status_code == 404
    # A full count: parts the file leaves out are taken off.
    response = upload_stock(buyer, "Part ID,Qty\n%d,9\n" % market["cap"].pk, replace="true")
    assert response.json()["removed"] == 1
    assert list(BuyerStock.objects.filter(organization=buyer.org).values_list("part_id", "quantity")) == [
        (market["cap"].pk, 9)]


def test_a_row_deleted_while_it_is_being_changed_is_a_404_not_a_500(buyer, market, monkeypatch):
    """Two requests at once (schemathesis' workers found it): the PATCH read the row, a DELETE took
    it off before the PATCH got the organisation's lock."""
    from marketplace.plans import api as plans_api

    mcu = market["mcu"].pk
    assert buyer.client.put(f"/api/v1/stock/{mcu}/", {"quantity": 5}, format="json").status_code == 200
    read = plans_api.stock_row_get

    def read_then_deleted(**kwargs):
        row = read(**kwargs)
        BuyerStock.objects.filter(pk=row.pk).delete()  # the other request's delete, committed meanwhile
        return row

    monkeypatch.setattr(plans_api, "stock_row_get", read_then_deleted)
    assert buyer.client.patch(f"/api/v1/stock/{mcu}/", {"quantity": 7}, format="json").status_code == 404
    assert not BuyerStock.objects.filter(organization=buyer.org).exists()


@pytest.mark.parametrize("text, row, column", [
    ("MPN,Qty\nRC0603FR-0710KL,12\nSTM32F103C8T6,twelve\n", 3, "Qty"),
    ("MPN,Qty\nRC0603FR-0710KL,-4\n", 2, "Qty"),
    ("MPN,Qty\nRC0603FR-0710KL,1.5\n", 2, "Qty"),
    ("MPN,Qty\n=HYPERLINK(\"x\"),3\n", 2, "MPN"),
    ("Part ID,Qty\n999999,3\n", 2, "Part ID"),
    ("Designator,Value\nR1,10k\n", 0, "file"),
    ("", 0, "file"),
])
def test_a_bad_stock_file_is_a_400_naming_the_row_and_changes_nothing(buyer, market, text, row, column):
    BuyerStock.objects.create(organization=buyer.org, part=market["res"], quantity=10)
    response = upload_stock(buyer, text)
    assert response.status_code == 400, response.json()
    errors = response.json()["errors"]
    assert (errors[0]["row"], errors[0]["column"]) == (row, column)
    assert response.json()["file"][0]  # in words
    assert list(BuyerStock.objects.filter(organization=buyer.org).values_list("part_id", "quantity")) == [
        (market["res"].pk, 10)]


def test_a_plan_across_boms_and_a_kit_net_of_stock_saves_against_separate_quotes(buyer, market, fund):
    bom_a, bom_b = upload_bom(buyer, BOM_A, "Sensor"), upload_bom(buyer, BOM_B, "Button")
    BuyerStock.objects.create(organization=buyer.org, part=market["mcu"], quantity=4)
    response = buyer.client.post("/api/v1/purchase-plans/", {
        "sources": [{"bom": bom_a, "quantity": 10}, {"bom": bom_b, "quantity": 10},
                    {"kit": market["kit"].pk, "quantity": 5}]}, format="json")
    assert response.status_code == 201, response.json()
    plan = response.json()
    needs = {n["mpn"]: n for n in plan["needs"]}
    # Resistors: 30 + 20 + 10 = 60 needed, bought once as one reel of 100.
    assert needs["RC0603FR-0710KL"]["needed"] == 60 and needs["RC0603FR-0710KL"]["bought"] == 100
    assert [(s["source"], s["quantity"]) for s in needs["RC0603FR-0710KL"]["by_source"]] == [(0, 30), (1, 20), (2, 10)]
    # MCUs: 10 needed, 4 on the shelf, 6 bought.
    assert (needs["STM32F103C8T6"]["from_stock"], needs["STM32F103C8T6"]["to_buy"],
            needs["STM32F103C8T6"]["bought"]) == (4, 6, 6)
    c = plan["comparison"]
    # Alone: three reels of resistors, two of capacitors, three shipping fees; together: one each, one fee.
    assert Decimal(c["separate_total"]) == Decimal("10") * 3 + Decimal("5") * 2 + Decimal("60") + Decimal("5") * 3
    assert Decimal(c["together_total"]) == Decimal("10") + Decimal("5") + Decimal("60") + Decimal("5")
    assert Decimal(c["plan_total"]) == Decimal("10") + Decimal("5") + Decimal("36") + Decimal("5")
    assert Decimal(c["saving"]) == Decimal(c["separate_total"]) - Decimal(c["plan_total"]) > 0
    assert Decimal(c["saving_stock"]) == Decimal("24.00")
    assert (c["separate_purchase_orders"], c["plan_purchase_orders"]) == (3, 1)
    assert [(u["source"], u["mpn"], u["quantity"]) for u in plan["unsourced"]] == [(0, "NOT-A-REAL-PART-9", 10)]
    assert buyer.client.get(f"/api/v1/purchase-plans/{plan['id']}/").json() == plan
    listed = buyer.client.get("/api/v1/purchase-plans/").json()
    assert listed["count"] == 1 and listed["results"][0]["quote"] == plan["quote"]
    quote = buyer.client.get(f"/api/v1/quotes/{plan['quote']}/").json()
    assert Decimal(quote["total"]) == Decimal(c["plan_total"]) and quote["held"] == {str(market["mcu"].pk): 4}

    # The unmatched BOM line: the whole plan is refused (as for a BOM quote) until asked ...
    fund(buyer.org)
    refused = buyer.client.post("/api/v1/orders/", {"quote": plan["quote"], "payment": "deposit"}, format="json")
    assert refused.status_code == 400
    # ... and with that line matched, the plan is ordered in one call.
    plan_b = buyer.client.post("/api/v1/purchase-plans/", {
        "sources": [{"bom": bom_b, "quantity": 10}, {"kit": market["kit"].pk, "quantity": 5}]}, format="json").json()
    order = buyer.client.post("/api/v1/orders/", {"quote": plan_b["quote"], "payment": "deposit"}, format="json")
    assert order.status_code == 201, order.json()
    assert Decimal(order.json()["total"]) == Decimal(plan_b["comparison"]["plan_total"])


def test_others_never_see_a_plan_or_stock(buyer, make_member, market):
    BuyerStock.objects.create(organization=buyer.org, part=market["res"], quantity=10)
    plan = buyer.client.post("/api/v1/purchase-plans/", {"sources": [{"kit": market["kit"].pk, "quantity": 1}]},
                             format="json").json()
    other = make_member(name="Other Co")
    assert other.client.get(f"/api/v1/purchase-plans/{plan['id']}/").status_code == 404
    assert other.client.get("/api/v1/purchase-plans/").json()["count"] == 0
    assert other.client.get("/api/v1/stock/").json()["count"] == 0
    assert other.client.get(f"/api/v1/stock/{market['res'].pk}/").status_code == 404
    assert other.client.patch(f"/api/v1/stock/{market['res'].pk}/", {"quantity": 1}, format="json").status_code == 404
    bom = upload_bom(buyer, BOM_B, "Mine")
    response = other.client.post("/api/v1/purchase-plans/", {"sources": [{"bom": bom, "quantity": 1}]}, format="json")
    assert response.status_code == 400 and PurchasePlan.objects.filter(organization=other.org).count() == 0


def test_a_viewer_reads_but_cannot_write(make_member, market):
    viewer = make_member(name="Viewer Co")
    Membership.objects.filter(user=viewer.user).update(role="viewer")
    BuyerStock.objects.create(organization=viewer.org, part=market["res"], quantity=10)
    assert viewer.client.get("/api/v1/stock/").json()["count"] == 1
    assert upload_stock(viewer, "MPN,Qty\nRC0603FR-0710KL,3\n").status_code == 403
    assert viewer.client.put(f"/api/v1/stock/{market['cap'].pk}/", {"quantity": 1}, format="json").status_code == 403
    assert viewer.client.delete(f"/api/v1/stock/{market['res'].pk}/").status_code == 403
    response = viewer.client.post("/api/v1/purchase-plans/", {"sources": [{"kit": market["kit"].pk, "quantity": 1}]},
                                  format="json")
    assert response.status_code == 403
    assert BuyerStock.objects.get(organization=viewer.org).quantity == 10 and not Quote.objects.exists()


@pytest.mark.parametrize("body", [
    {"sources": []},
    {"sources": [{"quantity": 3}]},
    {"sources": [{"kit": 1, "bom": 1, "quantity": 3}]},
    {"sources": [{"kit": "abc", "quantity": 1}]},
    {"sources": [{"kit": 999999, "quantity": 1}]},
    {"sources": "KIT"},
    "KIT",
    {"sources": [{"kit": "KIT", "quantity": 0}]},
    {"sources": [{"kit": "KIT", "quantity": 1}], "options": {"assembly": "auto"}},
    {"sources": [{"kit": "KIT", "quantity": 1}], "options": {"currency": "XYZ"}},
    {"sources": [{"kit": "KIT", "quantity": 1}, {"kit": "KIT", "quantity": 2}]},
])
def test_a_bad_plan_request_is_a_400_and_saves_nothing(buyer, market, body):
    def fill(value):
        if value == "KIT":
            return market["kit"].pk
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value

    body = body if body == "KIT" else fill(body)
    response = buyer.client.post("/api/v1/purchase-plans/", body, format="json")
    assert response.status_code == 400, response.content
    assert not PurchasePlan.objects.exists() and not Quote.objects.exists()
