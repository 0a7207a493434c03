"""The buyer's stock list (marketplace/plans/stock.py): files as people keep them, matched like BOM
lines; a bad file changes nothing; unsure matches are skipped and said."""

import io

import openpyxl
import pytest

from marketplace.exceptions import StockInvalid
from marketplace.models import BuyerStock
from marketplace.plans.stock import stock_import, stock_read, stock_row_add
from tests.marketplace.factories import OrganizationFactory, PartFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def parts():
    return {
        "ti": PartFactory(manufacturer="Texas Instruments", mpn="TPS62840DLCR"),
        "st": PartFactory(manufacturer="STMicroelectronics", mpn="STM32G031K8T6"),
        "vishay": PartFactory(manufacturer="Vishay", mpn="SI2302CDS-T1-GE3"),
        "diodes": PartFactory(manufacturer="Diodes", mpn="SI2302CDS-T1-GE3"),
    }


def held(org) -> dict[str, int]:
    return {f"{s.part.manufacturer} {s.part.mpn}": s.quantity for s in BuyerStock.objects.filter(organization=org)}


def test_a_european_excel_export_with_a_preamble_and_other_words(parts):
    org = OrganizationFactory()
    content = ("Lager Export 2026-12-01;;;\n"
               "Hersteller;Herstellerteilenummer;Bestand;Lagerort\n"
               "TI;TPS62840DLCR;1.200;Regal 3\n"         # TI is Texas Instruments; 1.200: a thousands dot, or 1.2?
               "STMicroelectronics;STM32G031K8T6TR;40;\n"  # a packaging suffix
               ).encode("cp1252")
    with pytest.raises(StockInvalid) as refused:  # "1.200" is not a whole number: say so, do not guess
        stock_import(organization=org, content=content)
    assert refused.value.errors[0]["row"] == 3 and refused.value.errors[0]["column"] == "Bestand"
    result = stock_import(organization=org, content=content.replace(b"1.200", b"1200"))
    assert (result.created, result.skipped) == (2, [])
    assert held(org) == {"Texas Instruments TPS62840DLCR": 1200, "STMicroelectronics STM32G031K8T6": 40}


def test_an_xlsx_inventory_by_part_id(parts):
    org = OrganizationFactory()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Part ID", "Qty on hand", "Bin"])
    sheet.append([parts["st"].pk, 7, "A1"])
    sheet.append([parts["st"].pk, 3, "A2"])  # two bins of one part
    out = io.BytesIO()
    book.save(out)
    result = stock_import(organization=org, content=out.getvalue(), filename="inventory.xlsx")
    assert result.created == 1
    row = BuyerStock.objects.get(organization=org)
    assert (row.part_id, row.quantity, row.note) == (parts["st"].pk, 10, "A1; A2")


def test_an_mpn_two_makers_share_is_skipped_unless_the_maker_says_which(parts):
    org = OrganizationFactory()
    result = stock_import(organization=org, content=b"MPN,Qty\nSI2302CDS-T1-GE3,100\n")
    assert result.created == 0 and result.skipped[0]["row"] == 2 and "several parts" in result.skipped[0]["reason"]
    result = stock_import(organization=org, content=b"MPN,Manufacturer,Qty\nSI2302CDS-T1-GE3,Vishay,100\n")
    assert held(org) == {"Vishay SI2302CDS-T1-GE3": 100}


def test_a_dry_run_and_a_full_count(parts):
    org = OrganizationFactory()
    stock_import(organization=org, content=b"MPN,Qty\nTPS62840DLCR,5\nSTM32G031K8T6,6\n")
    dry = stock_import(organization=org, content=b"MPN,Qty\nTPS62840DLCR,9\n", replace=True, dry_run=True)
    assert (dry.updated, dry.removed) == (1, 1) and held(org)["Texas Instruments TPS62840DLCR"] == 5
    stock_import(organization=org, content=b"MPN,Qty\nTPS62840DLCR,9\n", replace=True)
    assert held(org) == {"Texas Instruments TPS62840DLCR": 9}


@pytest.mark.parametrize("content, message", [
    (b"MPN,Qty\nTPS62840DLCR,\n", "No quantity"),
    (b"MPN,Qty\n,4\n", "No MPN and no part id"),
    (b"MPN,Qty\n@SUM(A1),4\n", "formula"),
    (b"Part ID,Qty\nabc,4\n", "not a part id"),
    (b"MPN,Qty\nTPS62840DLCR,3000000000\n", "from 0 to"),
    (b"MPN,Qty\n", "no rows"),
    (b"\x00\x01\x02binary", "binary"),
])
def test_bad_files_say_what_and_where(parts, content, message):
    org = OrganizationFactory()
    BuyerStock.objects.create(organization=org, part=parts["ti"], quantity=1)
    with pytest.raises(StockInvalid) as refused:
        stock_import(organization=org, content=content)
    assert message.lower() in " ".join(e["message"] for e in refused.value.errors).lower()
    assert held(org) == {"Texas Instruments TPS62840DLCR": 1}


def test_a_part_added_by_mpn_is_matched_like_a_file_row(parts):
    org = OrganizationFactory()
    assert stock_row_add(organization=org, mpn="tps62840dlcr", quantity=3).part == parts["ti"]
    with pytest.raises(StockInvalid, match="several parts"):
        stock_row_add(organization=org, mpn="SI2302CDS-T1-GE3", quantity=1)
    assert len(stock_read(b"Mfr Part Number,Quantity\nTPS62840DLCR,2\n")) == 1
