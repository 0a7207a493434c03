"""Buyer BOMs through the API: upload an EDA export, review the matches, quote, order."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from marketplace.models import Bom, BomItem, Kit, Quote
from tests.marketplace.factories import ListingFactory, PartFactory

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "boms"


@pytest.fixture
def catalogue():
    parts = {
        "cap": PartFactory(manufacturer="Murata", mpn="GRM155R71C104KA88D"),
        "res": PartFactory(manufacturer="Yageo", mpn="RC0603FR-0710KL"),
        "module": PartFactory(manufacturer="Espressif", mpn="ESP32-C3-MINI-1-N4"),
        "mcu": PartFactory(manufacturer="STMicroelectronics", mpn="STM32F103C8T6"),
        "alt_cap": PartFactory(manufacturer="Samsung", mpn="CL05B104KO5NNNC"),
    }
    ListingFactory(part=parts["cap"], stock=100_000, breaks=[(1, "0.02")])
    ListingFactory(part=parts["res"], stock=100_000, breaks=[(1, "0.01")])
    ListingFactory(part=parts["module"], stock=1_000, breaks=[(1, "9.80")])
    ListingFactory(part=parts["mcu"], stock=1_000, breaks=[(1, "6.50"), (100, "6.00")])
    return parts


def upload(member, name="kicad8_grouped.csv", content=None, **extra):
    content = (FIXTURES / name).read_bytes() if content is None else content
    return member.client.post("/api/v1/boms/", {"file": SimpleUploadedFile(name, content), **extra}, format="multipart")


def test_upload_maps_merges_and_matches_a_kicad_export(buyer, catalogue):
    response = upload(buyer)
    assert response.status_code == 201, response.json()
    bom = response.json()
    assert bom["name"] == "kicad8_grouped" and bom["rows_read"] == 6 and bom["dnp_rows"] == 1
    assert bom["columns"]["mpn"] == "MPN" and bom["columns"]["designators"] == "Reference"
    assert bom["placements"] == "9"
    by_mpn = {line["mpn"]: line for line in bom["lines"]}
    assert by_mpn["GRM155R71C104KA88D"]["designators"] == ["C1", "C2", "C3", "C4"]
    assert by_mpn["GRM155R71C104KA88D"]["match"]["status"] == "exact"
    assert by_mpn["ESP32-C3-MINI-1-N4"]["match"]["status"] == "exact"  # "Espressif Systems" is Espressif
    mcu = by_mpn["STM32F103C8T6TR"]["match"]
    assert (mcu["status"], mcu["part"]) == ("probable", catalogue["mcu"].pk) and "TR" in mcu["reason"]
    assert by_mpn["TYPE-C-31-M-12-X"]["match"] == {**by_mpn["TYPE-C-31-M-12-X"]["match"], "status": "none", "part": None}
    assert buyer.client.get(f"/api/v1/boms/{bom['id']}/").json() == bom


def test_the_buyer_names_columns_and_the_bom_remembers_them(buyer, catalogue):
    response = upload(buyer, "jlc_lcsc_only.csv")  # no MPN column: read by value and footprint
    assert response.status_code == 201 and response.json()["columns"] == {
        "value": "Comment", "designators": "Designator", "footprint": "Footprint"}
    response = upload(buyer, "jlc_lcsc_only.csv", columns='{"mpn": "LCSC Part #", "description": "Comment"}')
    assert response.status_code == 201, response.json()
    assert response.json()["columns"]["mpn"] == "LCSC Part #"
    assert Bom.objects.latest("pk").columns["description"] == "Comment"


@pytest.mark.parametrize("content, where", [
    (b"", {"row": 0, "column": "file"}),
    (b"Designator,Qty,MPN\nU1,1,=cmd|' /C calc'!A0\n", {"row": 2, "column": "MPN"}),
    (b"Price,Stock\n1.20,5\n", {"row": 0, "column": "columns"}),
    (b"Designator,Qty,MPN\nR1-R9999,9999,RC0603FR-0710KL\n", {"row": 2, "column": "Designator"}),
])
def test_bad_files_are_a_400_naming_row_and_column_and_save_nothing(buyer, catalogue, content, where):
    response = upload(buyer, "bad.csv", content)
    assert response.status_code == 400
    assert {k: response.json()["errors"][0][k] for k in where} == where
    assert Bom.objects.count() == 0 and BomItem.objects.count() == 0


def test_bad_columns_json_is_a_400(buyer):
    assert upload(buyer, columns="{not json").status_code == 400
    assert upload(buyer, columns='{"mpn": "No such column"}').json()["errors"][0]["message"] == \
        "mpn: the file has no column 'No such column'."


def test_another_organisations_bom_is_a_404(buyer, make_member, catalogue):
    bom = upload(buyer).json()
    other = make_member(name="Other buyer")
    assert other.client.get(f"/api/v1/boms/{bom['id']}/").status_code == 404
    assert other.client.patch(f"/api/v1/boms/{bom['id']}/lines/1/", {"dnp": True}, format="json").status_code == 404
    assert other.client.post(f"/api/v1/boms/{bom['id']}/quote/", {"quantity": 1}, format="json").status_code == 404
    assert other.client.get("/api/v1/boms/").json()["count"] == 0
    assert buyer.client.get("/api/v1/boms/").json()["results"][0]["unmatched"] == 1


def test_quote_sources_matched_lines_and_lists_the_unsourced(buyer, catalogue):
    bom = upload(buyer).json()
    response = buyer.client.post(f"/api/v1/boms/{bom['id']}/quote/", {"quantity": 10}, format="json")
    assert response.status_code == 201, response.json()
    quote = response.json()
    j1 = next(line for line in bom["lines"] if line["mpn"] == "TYPE-C-31-M-12-X")
    assert quote["unsourced"] == [{"line": j1["line"], "mpn": "TYPE-C-31-M-12-X", "quantity": 10}]
    # 4 caps x 10 x 0.02 + 2 res x 10 x 0.01 + module 98.00 + MCU 65.00
    assert quote["components_cost"] == "164.00" and quote["shortages"] == []
    kit = Kit.objects.get(pk=quote["kit"])
    assert kit.private and kit.owner_id == buyer.org.pk and kit.frozen


def test_correcting_a_line_then_quoting_again_makes_a_new_private_revision(buyer, make_member, catalogue):
    bom = upload(buyer).json()
    first = buyer.client.post(f"/api/v1/boms/{bom['id']}/quote/", {"quantity": 10}, format="json").json()
    j1 = next(line for line in bom["lines"] if line["mpn"] == "TYPE-C-31-M-12-X")
    usb = PartFactory(manufacturer="Korean Hroparts", mpn="TYPE-C-31-M-12")
    ListingFactory(part=usb, stock=500, breaks=[(1, "0.35")])
    response = buyer.client.patch(f"/api/v1/boms/{bom['id']}/lines/{j1['line']}/", {"part": usb.pk}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["match"] | {} == {**response.json()["match"], "status": "exact", "part": usb.pk,
                                             "confirmed": True}
    second = buyer.client.post(f"/api/v1/boms/{bom['id']}/quote/", {"quantity": 10}, format="json").json()
    assert second["unsourced"] == [] and second["components_cost"] == "167.50"
    assert second["kit"] != first["kit"] and second["kit_revision"] == 2
    # The first quote still prices the first revision; nobody else sees either revision.
    assert buyer.client.get(f"/api/v1/quotes/{first['id']}/").json()["components_cost"] == "164.00"
    stranger = make_member(name="Stranger")
    assert stranger.client.get(f"/api/v1/kits/{second['kit']}/").status_code == 404
    assert second["kit"] not in [k["id"] for k in stranger.client.get("/api/v1/kits/").json()["results"]]
    assert second["kit"] not in [k["id"] for k in buyer.client.get("/api/v1/kits/").json()["results"]]


def test_dnp_substitutes_and_quantity_changes_reach_the_quote(buyer, catalogue):
    bom = upload(buyer, "altium.csv").json()
    caps = bom["lines"][0]
    assert caps["substitutes"] == [catalogue["alt_cap"].pk]  # Manufacturer Part Number 2
    url = f"/api/v1/boms/{bom['id']}/lines/"
    assert buyer.client.patch(f"{url}{caps['line']}/", {"quantity": "2"}, format="json").json()["quantity"] == "2"
    resistors = bom["lines"][-1]
    assert buyer.client.patch(f"{url}{resistors['line']}/", {"dnp": True}, format="json").json()["dnp"] is True
    quote = buyer.client.post(f"/api/v1/boms/{bom['id']}/quote/", {"quantity": 5}, format="json").json()
    lines = {line["part"]: line for line in quote["lines"]}
    assert lines[catalogue["cap"].pk]["needed_qty"] == 10 and catalogue["res"].pk not in lines
    assert {u["mpn"] for u in quote["unsourced"]} == {"LPC1768FBD100,551", "TPS62840DLCR", "LT1761ES5-3.3#TRPBF"}


def test_line_changes_are_checked(buyer, catalogue):
    bom = upload(buyer).json()
    url = f"/api/v1/boms/{bom['id']}/lines/1/"
    assert buyer.client.patch(url, {"part": 999999}, format="json").status_code == 400
    assert buyer.client.patch(url, {"quantity": "0"}, format="json").status_code == 400
    assert buyer.client.patch(url, {"substitutes": [catalogue["cap"].pk]}, format="json").status_code == 400
    assert buyer.client.patch(f"/api/v1/boms/{bom['id']}/lines/99/", {"dnp": True}, format="json").status_code == 404


def test_a_bom_with_no_matched_line_cannot_be_quoted(buyer):
    bom = upload(buyer, "headerless.csv").json()
    response = buyer.client.post(f"/api/v1/boms/{bom['id']}/quote/", {"quantity": 1}, format="json")
    assert response.status_code == 400 and "No line of this BOM is matched" in str(response.json())
    assert Quote.objects.count() == 0


def test_an_order_from_a_bom_quote_is_an_ordinary_order(buyer, catalogue, fund):
    fund(buyer.org)
    bom = upload(buyer).json()
    j1 = next(line for line in bom["lines"] if line["mpn"] == "TYPE-C-31-M-12-X")
    buyer.client.patch(f"/api/v1/boms/{bom['id']}/lines/{j1['line']}/", {"dnp": True}, format="json")
    quote = buyer.client.post(f"/api/v1/boms/{bom['id']}/quote/", {"quantity": 10}, format="json").json()
    response = buyer.client.post("/api/v1/orders/", {"quote": quote["id"], "payment": "deposit"}, format="json",
                                 HTTP_IDEMPOTENCY_KEY="bom-order-1")
    assert response.status_code == 201, response.json()
    assert Decimal(response.json()["total"]) == Decimal(quote["total"])


def test_viewers_cannot_upload(make_member):
    from organizations.models import Membership

    viewer = make_member(name="Viewer Co")
    Membership.objects.filter(user=viewer.user).update(role="viewer")
    assert upload(viewer).status_code == 403


def test_quote_export_through_the_api(buyer, make_member, catalogue):
    bom = upload(buyer).json()
    quote = buyer.client.post(f"/api/v1/boms/{bom['id']}/quote/", {"quantity": 10}, format="json").json()
    csv_text = buyer.client.get(f"/api/v1/quotes/{quote['id']}/export/csv/").content.decode("utf-8-sig")
    assert csv_text.startswith("Designators,Manufacturer,MPN") and "unsourced" in csv_text
    xlsx = buyer.client.get(f"/api/v1/quotes/{quote['id']}/export/xlsx/")
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
    assert buyer.client.get(f"/api/v1/quotes/{quote['id']}/export/pdf/").status_code == 404
    assert make_member(name="Other").client.get(f"/api/v1/quotes/{quote['id']}/export/csv/").status_code == 404


def test_bom_quotes_take_the_sourcing_options(buyer, catalogue):
    bom = upload(buyer).json()
    url = f"/api/v1/boms/{bom['id']}/quote/"
    response = buyer.client.post(url, {"quantity": 10, "options": {"max_vendors": 1, "max_lead_time_days": 30}},
                                 format="json")
    assert response.status_code == 201, response.json()
    quote = response.json()
    assert quote["options"]["max_vendors"] == 1 and len(quote["vendors"]) <= 1
    bad = buyer.client.post(url, {"quantity": 10, "options": {"currency": "EUR"}}, format="json")
    assert bad.status_code == 400 and "currency" in str(bad.json())


def test_a_bad_field_is_a_400_in_the_documented_bom_error_shape(buyer):
    """schemathesis found `columns` that is not JSON answered as a bare field map, not as BomError."""
    response = buyer.client.post("/api/v1/boms/", {"file": SimpleUploadedFile("b.csv", b"MPN\nX\n"),
                                                   "columns": "{not json"}, format="multipart")
    assert response.status_code == 400
    body = response.json()
    assert body["errors"][0]["row"] == 0 and body["errors"][0]["column"] == "columns"
    assert body["file"] and body["file"][0].startswith("columns: ")


def test_a_bom_quote_with_unsourced_lines_asks_before_ordering_like_a_short_kit_quote(buyer, catalogue, fund):
    """One rule for kit and BOM quotes: a line nothing matched is a part the order would lack."""
    fund(buyer.org)
    bom = upload(buyer).json()
    quote = buyer.client.post(f"/api/v1/boms/{bom['id']}/quote/", {"quantity": 10}, format="json").json()
    assert quote["unsourced"] and quote["shortages"] == []
    whole = buyer.client.post("/api/v1/orders/", {"quote": quote["id"], "payment": "deposit"}, format="json",
                              HTTP_IDEMPOTENCY_KEY="bom-order-unsourced")
    assert whole.status_code == 400 and "no catalogue part matched" in str(whole.json())
    from marketplace.models import Order

    assert Order.objects.count() == 0
    partial = buyer.client.post("/api/v1/orders/", {"quote": quote["id"], "payment": "deposit", "partial": True},
                                format="json", HTTP_IDEMPOTENCY_KEY="bom-order-partial")
    assert partial.status_code == 201, partial.json()
    assert Decimal(partial.json()["total"]) == Decimal(quote["total"])
