"""Real BOM exports as their authors published them (fixtures/boms/real/SOURCES.md names each
repository and commit), read with no column mapping. The counts were worked out by hand from the
files: lines after merging, parts placed per board, do-not-populate placements, not-a-part lines."""

from decimal import Decimal
from pathlib import Path

import pytest

from marketplace.boms.reader import bom_read

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "boms" / "real"


def read(name: str):
    return bom_read((REAL / name).read_bytes(), filename=name, known_manufacturers={"murata", "yageo", "kemet"})


def designators(lines) -> set[str]:
    return {d for line in lines for d in line.designators}


def test_kicad6_individual_then_collated_listing_is_read_once():
    """160 components (the preamble says so): 146 placed, R3/R6/R7/R8 valued `NC`, 3 test points
    and 7 solder jumpers that are no parts to buy."""
    bom = read("kicad6_individual_and_collated__3Fall_MarvinFC_beta.csv")
    assert bom.columns["designators"] == "Reference(s)" and bom.columns["value"] == "Value"
    assert len(bom.lines) == 79 and bom.placements == 146
    assert [l.designators for l in bom.dnp_lines] == [["R3", "R6", "R7", "R8"]] and bom.dnp_placements == 4
    assert sorted(designators(bom.other_lines)) == sorted(["JP1", "JP2", "JP3", "JP4", "JP5", "JP6", "JP7",
                                                           "TP1", "TP2", "TP3"])
    assert {l.not_a_part for l in bom.other_lines} == {"a solder jumper", "a test point"}
    assert bom.placements + bom.dnp_placements + sum(l.quantity for l in bom.other_lines) == 160
    assert any("the shorter listing is read" in w["message"] for w in bom.warnings)
    caps = next(l for l in bom.lines if l.designators[:2] == ["C3", "C8"])
    assert caps.quantity == 10 and caps.value == "100nF" and caps.footprint == "Capacitor_SMD:C_0603_1608Metric"


def test_altium_one_row_per_designator_with_mpns_under_libref():
    """219 rows of quantity 1: 6 `NP` capacitors, 3 fiducials, a PCB row without designator and
    unnumbered `_1`…`_WK` lines."""
    bom = read("altium_one_row_per_part__ultimachine_Einsy-Rambo_Mini-Rambo.csv")
    assert bom.columns["mpn"] == "LibRef" and bom.mapping["mpn"]["source"] == "content"
    assert bom.columns["value"] == "Comment" and bom.columns["description"] == "Description"
    assert bom.placements == 210 and bom.dnp_placements == 6 and bom.dnp_rows == 6
    assert designators(bom.dnp_lines) == {f"C{n}" for n in range(84, 90)}
    assert [(l.designators, l.not_a_part) for l in bom.other_lines] == [(["FID1", "FID2", "FID3"], "a fiducial")]
    fuses = next(l for l in bom.lines if l.mpn == "Fuses")
    assert fuses.designators == ["_1", "_2", "_3"] and fuses.quantity == 3
    assert {"_A", "_AH", "_WK"} <= designators(bom.lines)
    pcb = next(l for l in bom.lines if l.mpn == "PCB")
    assert pcb.designators == [] and pcb.quantity == 1
    caps = next(l for l in bom.lines if l.mpn == "GRM155R71C104KA88D")
    assert caps.quantity == 17 and caps.value == "100nF"
    assert len(bom.lines) == 62  # 63 distinct LibRef values less FIDUCIAL
    assert not bom.warnings


def test_kicad_for_jlc_with_values_and_footprints_only():
    bom = read("kicad_jlc_values_only__2468shrm_M4_CAN_Feather_Carrier_v6.csv")
    assert bom.columns == {"value": "Comment", "designators": "Designator", "footprint": "Footprint"}
    assert len(bom.lines) == 26 and bom.placements == 50 and not bom.dnp_lines and not bom.other_lines
    decoupling = next(l for l in bom.lines if l.value == "0.1u")
    assert decoupling.designators == ["C20", "C21", "C22", "C23"] and decoupling.mpn == ""
    assert decoupling.footprint == "Capacitor_SMD:C_0603_1608Metric"


def test_hand_made_bom_with_a_section_heading_and_values_in_the_description():
    bom = read("handmade_sections__8BitMixtape_mCore_Mixtape.csv")
    assert bom.columns["mpn"] == "Part Number" and bom.columns["manufacturer"] == "Manufacturer"
    assert len(bom.lines) == 14 and bom.placements == 21 and not bom.dnp_lines
    assert [w["message"] for w in bom.warnings] == ["skipped “External components”: a heading, not a BOM line."]
    pull_ups = next(l for l in bom.lines if l.mpn == "RC1206FR-0722KL")
    assert pull_ups.designators == ["R1", "R2", "R3", "R4"] and pull_ups.quantity == 4
    assert {"Push1", "Jack1", "Jack2", "Trim1", "Pot1"} <= designators(bom.lines)


# --- The cases the issue names, each as the tool writes it ----------------------------------------


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def test_a_header_of_ref_value_and_field_n_finds_the_mpn_and_maker_columns_by_their_cells():
    """KiCad's old `ref;value;sheet path;footprint;field1;field2` export."""
    bom = bom_read(csv_bytes(
        "ref;value;footprint;Field1;Field2",
        "C1;100nF;C_0402_1005Metric;GRM155R71C104KA88D;Murata",
        "C2;100nF;C_0402_1005Metric;GRM155R71C104KA88D;Murata",
        "R1;10k;R_0603_1608Metric;RC0603FR-0710KL;Yageo",
        "U1;STM32F103;LQFP-48;STM32F103C8T6;STMicroelectronics",
    ), known_manufacturers={"murata", "yageo", "stmicroelectronics"})
    assert bom.columns["mpn"] == "Field1" and bom.columns["manufacturer"] == "Field2"
    assert bom.mapping["mpn"]["source"] == "content" and Decimal(bom.mapping["mpn"]["confidence"]) >= Decimal("0.5")
    assert [(l.designators, l.manufacturer, l.mpn) for l in bom.lines][0] == (["C1", "C2"], "Murata",
                                                                              "GRM155R71C104KA88D")


def test_mpns_under_manufacturer_name_and_makers_under_brand_the_cells_win():
    bom = bom_read(csv_bytes(
        "Designator,Manufacturer name,brand,Qty",
        "C1,GRM155R71C104KA88D,Murata,1",
        "R1,RC0603FR-0710KL,Yageo,1",
        "U1,STM32F103C8T6,STMicroelectronics,1",
    ), known_manufacturers={"murata", "yageo", "stmicroelectronics"})
    assert bom.columns["mpn"] == "Manufacturer name" and bom.columns["manufacturer"] == "brand"
    assert "the cells win" in bom.mapping["mpn"]["reason"]
    assert [(l.manufacturer, l.mpn) for l in bom.lines][2] == ("STMicroelectronics", "STM32F103C8T6")


@pytest.mark.parametrize("header", ["Designation", "Part", "Part No.", "Mfr Part", "型号", "物料编码", "Référence fabricant"])
def test_multilingual_and_loose_header_names_for_the_part_number(header):
    bom = bom_read(f"位号,{header},数量\nC1 C2,GRM155R71C104KA88D,2\nU1,STM32F103C8T6,1\n".encode())
    assert bom.columns["designators"] == "位号" and bom.columns["quantity"] == "数量"
    assert bom.columns.get("mpn") == header or bom.columns.get("value") == header
    assert bom.placements == 3


def test_altium_designators_without_numbers_are_read():
    bom = bom_read(csv_bytes('"Comment","Designator","Quantity","Manufacturer Part Number 1"',
                             '"Fan header","FAN","1","B2B-XH-A"', '"Button","BOOT, USR","2","PTS810SJM250SMTRLFS"',
                             '"LED","LED_PWR","1","LTST-C191KGKT"', '"Logo","G***","1",""'))
    assert [l.designators for l in bom.lines] == [["FAN"], ["BOOT", "USR"], ["LED_PWR"]]
    assert [(l.designators, l.not_a_part) for l in bom.other_lines] == [(["G***"], "a logo")]


@pytest.mark.parametrize("row", [
    'R1,10k,DNP', 'R1,10k,DNF', 'R1,10k,DNI', 'R1,10k,NF', 'R1,NC,', 'R1,10k,Not fitted', 'R1,10k,Do not populate',
    'R1,10k,no stuff', 'R1,DNP,', 'R1,10k (DNF),', 'R1,nicht bestückt,',
])
def test_every_kind_of_dnp_mark(row):
    bom = bom_read(csv_bytes("Ref,Value,Notes", row, "R2,10k,"))
    assert [l.designators for l in bom.dnp_lines] == [["R1"]] and bom.placements == 1


@pytest.mark.parametrize("header, mark", [("Populate", "0"), ("Fitted", "false"), ("Populate", "no"), ("Mount", "N")])
def test_a_populate_column_saying_no_is_dnp(header, mark):
    bom = bom_read(csv_bytes(f"Ref,Value,{header}", f"R1,10k,{mark}", "R2,10k,1"))
    assert [l.designators for l in bom.dnp_lines] == [["R1"]] and [l.designators for l in bom.lines] == [["R2"]]


@pytest.mark.parametrize("designator, footprint, reason", [
    ("FID1", "Fiducial_1mm", "a fiducial"), ("H1", "MountingHole:MountingHole_3.2mm_M3", "a mounting hole"),
    ("TP4", "TestPoint:TestPoint_Pad_D1.0mm", "a test point"), ("LOGO1", "", "a logo"),
    ("NT1", "NetTie:NetTie-2_SMD_Pad0.5mm", "a net tie"), ("MH2", "", "a mounting hole"),
])
def test_board_features_are_not_a_part_lines(designator, footprint, reason):
    bom = bom_read(csv_bytes("Reference,Value,Footprint", f"{designator},x,{footprint}", "R1,10k,R_0603"))
    assert [(l.designators, l.not_a_part) for l in bom.other_lines] == [([designator], reason)]
    assert bom.placements == 1


def test_a_test_point_with_a_real_part_number_is_a_part():
    bom = bom_read(csv_bytes("Reference,Value,MPN", "TP1,TestPoint,5000", "R1,10k,RC0603FR-0710KL"))
    assert not bom.other_lines and len(bom.lines) == 2


@pytest.mark.django_db
def test_a_real_export_uploads_with_its_not_a_part_and_dnp_lines_kept_apart(buyer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    name = "kicad6_individual_and_collated__3Fall_MarvinFC_beta.csv"
    response = buyer.client.post("/api/v1/boms/", {"file": SimpleUploadedFile(name, (REAL / name).read_bytes())},
                                 format="multipart")
    assert response.status_code == 201, response.json()
    bom = response.json()
    assert bom["placements"] == "146" and len(bom["lines"]) == 79 + 1 + 6
    assert {l["not_a_part"] for l in bom["lines"]} == {"", "a solder jumper", "a test point"}
    assert [l["designators"] for l in bom["lines"] if l["dnp"]] == [["R3", "R6", "R7", "R8"]]
    assert bom["mapping"]["designators"]["column"] == "Reference(s)"
    assert any("the shorter listing is read" in w["message"] for w in bom["warnings"])
    quote = buyer.client.post(f"/api/v1/boms/{bom['id']}/quote/", {"quantity": 1}, format="json")
    assert quote.status_code == 400  # nothing matched in an empty catalogue: a clear 400, no 500
