"""The BOM workbench and my quotes in the browser: upload, review, quote, export, publish."""

import csv
import io
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from marketplace.models import Bom, Kit, Quote
from tests.marketplace.factories import ListingFactory, OrganizationFactory, PartFactory, make_kit

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "boms"


def browser(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


@pytest.fixture
def catalogue():
    cap = PartFactory(manufacturer="Murata", mpn="GRM155R71C104KA88D")
    res = PartFactory(manufacturer="Yageo", mpn="RC0603FR-0710KL")
    mcu = PartFactory(manufacturer="STMicroelectronics", mpn="STM32F103C8T6")
    PartFactory(manufacturer="Espressif", mpn="ESP32-C3-MINI-1-N4")  # in the catalogue, nobody stocks it
    ListingFactory(part=cap, stock=100_000, breaks=[(1, "0.02")], vendor=OrganizationFactory(trader=True, name="=Hua Xin"))
    ListingFactory(part=res, stock=100_000, breaks=[(1, "0.01")], vendor=OrganizationFactory(trader=True, name="Sai Ge"))
    ListingFactory(part=mcu, stock=1_000, breaks=[(1, "6.50")], vendor=OrganizationFactory(trader=True, name="Sai Ge 2"))
    return {"cap": cap, "res": res, "mcu": mcu}


def upload(client, filename="kicad8_grouped.csv", content=None, **extra):
    content = (FIXTURES / filename).read_bytes() if content is None else content
    return client.post("/boms/", {"file": SimpleUploadedFile(filename, content), **extra})


def test_upload_review_and_quote_in_the_browser(buyer, catalogue):
    b = browser(buyer)
    assert "No BOMs yet" in b.get("/boms/").content.decode()
    response = upload(b)
    bom = Bom.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/boms/{bom.pk}/"
    page = b.get(response["Location"]).content.decode()
    assert "3 exact" in page and "1 probable" in page and "1 no match" in page
    assert "STM32F103C8T6TR" in page and "the packaging suffix TR removed" in page
    # Accept the probable MCU, search a part for the USB connector, then quote.
    mcu_line = bom.items.get(mpn="STM32F103C8T6TR").line
    b.post(f"/boms/{bom.pk}/lines/{mcu_line}/", {"action": "accept"})
    assert bom.items.get(line=mcu_line).confirmed
    usb = PartFactory(manufacturer="Korean Hroparts", mpn="TYPE-C-31-M-12")
    usb_line = bom.items.get(mpn="TYPE-C-31-M-12-X").line
    page = b.get(f"/boms/{bom.pk}/?line={usb_line}&q=type-c-31").content.decode()
    assert "Use TYPE-C-31-M-12" in page
    b.post(f"/boms/{bom.pk}/lines/{usb_line}/", {"action": "part", "part": usb.pk})
    assert bom.items.get(line=usb_line).part == usb
    response = b.post(f"/boms/{bom.pk}/quote/", {"quantity": 10})
    quote = Quote.objects.get()
    assert response["Location"] == f"/quotes/{quote.pk}/"
    assert quote.unsourced == []  # the connector has a part now (nobody stocks it: a shortfall instead)
    assert "export" in b.get(f"/quotes/{quote.pk}/").content.decode()
    assert f"#{quote.pk}" in b.get("/quotes/").content.decode()


def test_a_bad_file_shows_row_and_column_and_saves_nothing(buyer):
    response = upload(browser(buyer), "bad.csv", b"Designator,Qty,MPN\nU1,1,=cmd|' /C calc'!A0\n")
    page = response.content.decode()
    assert response.status_code == 400 and "Nothing was saved" in page and "formula" in page
    assert Bom.objects.count() == 0


def test_the_preview_reads_without_saving_and_the_chosen_mapping_is_remembered(buyer, catalogue):
    b = browser(buyer)
    file = SimpleUploadedFile("jlc.csv", (FIXTURES / "jlc_lcsc_only.csv").read_bytes())
    response = b.post("/boms/preview/", {"file": file})  # no MPN column: read by value and footprint
    assert response.status_code == 200 and response.json()["lines"] == 2
    file = SimpleUploadedFile("jlc.csv", (FIXTURES / "jlc_lcsc_only.csv").read_bytes())
    preview = b.post("/boms/preview/", {"file": file, "mapping_changed": "1", "col_mpn": "LCSC Part #",
                                        "col_designators": "Designator"}).json()
    assert preview["names"] == ["Comment", "Designator", "Footprint", "LCSC Part #"] and preview["lines"] == 2
    assert Bom.objects.count() == 0
    upload(b, "jlc_lcsc_only.csv", mapping_changed="1", col_mpn="LCSC Part #", col_designators="Designator")
    second = upload(b, "jlc_lcsc_only.csv")  # same columns, no mapping given: the choice is reused
    assert second.status_code == 302
    assert Bom.objects.order_by("-id").first().columns == {"mpn": "LCSC Part #", "designators": "Designator"}


def test_dnp_and_quantity_on_the_review_page(buyer, catalogue):
    b = browser(buyer)
    upload(b)
    bom = Bom.objects.get()
    b.post(f"/boms/{bom.pk}/lines/1/", {"action": "dnp"})
    b.post(f"/boms/{bom.pk}/lines/2/", {"action": "quantity", "quantity": "3"})
    response = b.post(f"/boms/{bom.pk}/lines/2/", {"action": "quantity", "quantity": "lots"})
    assert response.status_code == 302
    assert bom.items.get(line=1).dnp and str(bom.items.get(line=2).quantity) == "3.0000"


def test_quote_exports_have_subtotals_and_neutralised_cells(buyer, catalogue):
    b = browser(buyer)
    upload(b)
    bom = Bom.objects.get()
    b.post(f"/boms/{bom.pk}/quote/", {"quantity": 10})
    quote = Quote.objects.get()
    response = b.get(f"/quotes/{quote.pk}/export.csv")
    assert response["Content-Disposition"] == f'attachment; filename="kitstreet-quote-{quote.pk}.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:8] == ["Designators", "Manufacturer", "MPN", "Bought part", "Vendor", "Quantity", "Unit price",
                           "Extended price"]
    cap = next(r for r in rows if r[2] == "GRM155R71C104KA88D")
    assert cap[0] == "C1,C2,C3,C4" and cap[4] == "'=Hua Xin" and cap[5] == "40" and cap[7] == "0.800000"
    assert ["", "", "", "", "'=Hua Xin", "", "", "0.80", "CNY", "subtotal"] in rows
    assert any(r[2] == "TYPE-C-31-M-12-X" and r[9].startswith("unsourced") for r in rows)
    sheet = openpyxl.load_workbook(io.BytesIO(b.get(f"/quotes/{quote.pk}/export.xlsx").content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert all(not (isinstance(v, str) and v.startswith("=")) for row in values for v in row)
    assert any(row[4] == "'=Hua Xin" and row[9] == "subtotal" for row in values)
    assert sheet.cell(1, 1).value == "Designators"


def test_another_organisations_bom_and_quote_exports_are_404(buyer, make_member, catalogue):
    b = browser(buyer)
    upload(b)
    bom = Bom.objects.get()
    b.post(f"/boms/{bom.pk}/quote/", {"quantity": 1})
    other = browser(make_member(name="Other"))
    assert other.get(f"/boms/{bom.pk}/").status_code == 404
    assert other.get(f"/quotes/{Quote.objects.get().pk}/export.csv").status_code == 404
    assert other.post(f"/boms/{bom.pk}/lines/1/", {"action": "dnp"}).status_code == 404


def test_start_a_trial_preselects_the_boms_private_kit(buyer, catalogue):
    b = browser(buyer)
    upload(b)
    bom = Bom.objects.get()
    response = b.post(f"/boms/{bom.pk}/trial/")
    kit = Bom.objects.get().kit
    assert kit.private and response["Location"] == f"/trials/new/?kit={kit.pk}"
    page = b.get(response["Location"]).content.decode()
    assert f'<option value="{kit.pk}" selected>' in page


def test_a_solution_house_publishes_and_edits_a_kit_in_the_workbench(solution_house, buyer, catalogue):
    s = browser(solution_house)
    upload(s, "kicad8_grouped.csv", name="Dev board")
    bom = Bom.objects.get()
    response = s.post(f"/boms/{bom.pk}/publish/")
    kit = Kit.objects.get(private=False)
    assert response["Location"] == f"/kits/{kit.pk}/" and kit.name == "Dev board" and kit.bom_lines.count() == 4
    assert buyer.client.get(f"/api/v1/kits/{kit.pk}/").status_code == 200
    buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 5}, format="json")  # freezes rev 1
    # Edit: open the kit's BOM, add a line, save into the kit -> rev 2.
    response = s.post(f"/kits/{kit.pk}/edit/")
    editor = Bom.objects.get(published_kit=kit, filename="")
    assert response["Location"] == f"/boms/{editor.pk}/" and editor.items.count() == 4
    s.post(f"/boms/{editor.pk}/lines/add/", {"mpn": "RC0603FR-0710KL", "designators": "R9", "quantity": "1"})
    assert "R9" in editor.items.get(line=5).designators  # a second line of the same part: merged into the kit line
    s.post(f"/boms/{editor.pk}/publish/")
    current = Kit.objects.get(family=kit, is_current=True)
    assert current.revision == 2 and current.bom_lines.get(part=catalogue["res"]).quantity == 3
    assert browser(buyer).post(f"/boms/{editor.pk}/publish/").status_code == 404


def test_buyers_cannot_publish(buyer, catalogue):
    b = browser(buyer)
    upload(b)
    bom = Bom.objects.get()
    b.post(f"/boms/{bom.pk}/publish/")
    assert not Kit.objects.filter(private=False).exists()
    assert "Publish as a kit" not in b.get(f"/boms/{bom.pk}/").content.decode()


def test_kit_editor_is_only_for_the_owner(solution_house, buyer):
    kit = make_kit(owner=solution_house.org, bom=[(PartFactory(), 1)])
    assert browser(buyer).post(f"/kits/{kit.pk}/edit/").status_code == 404


@pytest.mark.parametrize("quantity", ["0.00001", "1e30", "NaN", "-1"])
def test_odd_quantities_in_the_editor_are_messages_not_errors(buyer, catalogue, quantity):
    b = browser(buyer)
    upload(b)
    bom = Bom.objects.get()
    assert b.post(f"/boms/{bom.pk}/lines/2/", {"action": "quantity", "quantity": quantity}).status_code == 302
    assert b.post(f"/boms/{bom.pk}/lines/add/", {"mpn": "X123", "quantity": quantity}).status_code == 302
    assert str(bom.items.get(line=2).quantity) == "2.0000" and bom.items.count() == 6  # nothing added (5 + the DNP line)


def test_unsourced_lines_go_to_the_market_from_the_review_page(buyer, catalogue):
    b = browser(buyer)
    upload(b)
    bom = Bom.objects.get()
    page = b.get(f"/boms/{bom.pk}/").content.decode()
    assert "Ask the market for the 1 unsourced line" in page
    unsourced = bom.items.get(part__isnull=True, dnp=False)
    form = b.get("/rfqs/new/", {"title": "From my BOM", "lines": f"{unsourced.manufacturer}, {unsourced.mpn}, 40"}).content.decode()
    assert unsourced.mpn in form and "From my BOM" in form


def test_a_bom_quote_with_an_unmatched_line_asks_before_ordering_on_its_page(buyer, catalogue):
    """The kit rule on the quote page: no "Place the order" for a quote that lacks a part, but the
    ask-the-market and order-what-is-available forms."""
    b = browser(buyer)
    upload(b)
    bom = Bom.objects.get()
    b.post(f"/boms/{bom.pk}/quote/", {"quantity": 10})
    quote = Quote.objects.get()
    quote.lines.update(shortfall=0)  # every matched line sourced: only the unmatched one is missing
    assert quote.unsourced and not quote.has_shortages
    page = b.get(f"/quotes/{quote.pk}/").content.decode()
    assert "Cannot be ordered as a whole kit" in page and "matched no catalogue part" in page
    assert "Order what is available and ask for the rest" in page and "Place the order" not in page
