"""Reading real EDA exports (hand-written fixtures in each tool's format) and refusing bad ones."""

import csv
import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.boms.reader import bom_read, is_formula, parse_designators, split_mpns
from marketplace.exceptions import BomInvalid

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "boms"
MAKERS = {"murata", "yageo", "stmicroelectronics", "texas instruments"}


def read(name: str, **kwargs):
    return bom_read((FIXTURES / name).read_bytes(), filename=name, known_manufacturers=MAKERS, **kwargs)


def summary(bom) -> list[tuple]:
    return [(",".join(l.designators), l.quantity, l.manufacturer, l.mpn) for l in bom.lines]


def test_kicad8_grouped_csv_with_a_dnp_column():
    bom = read("kicad8_grouped.csv")
    assert bom.columns["designators"] == "Reference" and bom.columns["quantity"] == "Qty" and bom.columns["dnp"] == "DNP"
    assert bom.rows_read == 6 and bom.dnp_rows == 1
    assert summary(bom)[:2] == [("C1,C2,C3,C4", 4, "Murata", "GRM155R71C104KA88D"),
                                ("R1,R2", 2, "Yageo", "RC0603FR-0710KL")]
    assert "R3" not in {d for l in bom.lines for d in l.designators}
    assert bom.placements == Decimal(9)


def test_kicad7_legacy_script_output_with_a_preamble_and_space_separated_refs():
    bom = read("kicad7_legacy_grouped.csv")
    assert bom.header_row == 7 and bom.columns["quantity"] == "Qnty"
    assert summary(bom)[0] == ("C1,C2,C3", 3, "", "GRM155R71C104KA88D")
    test_point = bom.lines[-1]
    assert test_point.designators == ["TP1"] and test_point.mpn == ""  # kept, not dropped silently


def test_altium_csv_with_ranges_commas_in_mpns_and_paired_alternate_columns():
    bom = read("altium.csv")
    assert bom.columns["mpn"] == ["Manufacturer Part Number 1", "Manufacturer Part Number 2"]
    assert bom.columns["description"] == "Description"
    caps, mcu, *_, resistors = bom.lines
    assert caps.alternates == [("Samsung", "CL05B104KO5NNNC")]
    assert mcu.mpn == "LPC1768FBD100,551"  # NXP ordering code keeps its comma
    assert resistors.designators == [f"R{i}" for i in range(1, 9)] and resistors.quantity == 8


def test_altium_xlsx_reads_like_its_csv():
    book = openpyxl.Workbook()
    sheet = book.active
    for line in (FIXTURES / "altium.csv").read_text().splitlines():
        sheet.append(next(csv.reader([line])))
    sheet["F2"] = 4  # a real number cell, as Excel stores quantities
    buffer = io.BytesIO()
    book.save(buffer)
    assert summary(bom_read(buffer.getvalue(), filename="bom.xlsx")) == summary(read("altium.csv"))


def test_eagle_semicolon_per_part_rows_in_windows_1252_merge_by_part():
    bom = read("eagle_parts.csv")
    assert bom.columns["designators"] == "Part" and bom.columns["manufacturer"] == "MF"
    assert bom.dnp_rows == 1  # R9's value is DNP
    assert summary(bom)[0] == ("C1,C2", 2, "Murata", "GRM155R71C104KA88D")
    assert bom.lines[1].value == "22µF"  # decoded from Windows-1252
    assert ("R1,R2", 2, "Yageo", "RC0603FR-0710KL") in summary(bom)
    assert bom.lines[2].mpn == "19-217/GHC-YR1S2/3T"  # slashes stay


def test_fusion_grouped_semicolon_utf8_with_bom():
    bom = read("fusion_grouped.csv")
    assert bom.columns["designators"] == "Parts" and bom.columns["quantity"] == "Qty"
    assert summary(bom) == [("C1,C2", 2, "Murata", "GRM155R71C104KA88D"), ("Q1", 1, "Vishay Siliconix", "SI2302CDS-T1-GE3"),
                            ("Q2", 1, "AOS", "AO3400A")]


def test_easyeda_utf16_tab_separated():
    bom = read("easyeda.tsv")
    assert bom.columns["mpn"] == "Manufacturer Part"
    assert summary(bom)[1] == ("U1", 1, "TOPPOWER(南京拓微)", "TP4056")


def test_jlc_template_without_mpns_is_refused_naming_the_columns():
    with pytest.raises(BomInvalid) as exc:
        read("jlc_lcsc_only.csv")
    assert "No column holds manufacturer part numbers" in exc.value.errors[0]["message"]
    assert "LCSC Part #" in exc.value.errors[0]["message"]


def test_the_buyer_can_name_the_mpn_column():
    bom = read("jlc_lcsc_only.csv", columns={"mpn": "LCSC Part #", "designators": "Designator"})
    assert summary(bom)[0] == ("C1,C2", 2, "", "C1525")


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["headerless.csv", "field_headers.csv"])
def test_columns_from_content_when_the_header_says_nothing(name):
    bom = read(name)
    assert {"designators", "quantity", "mpn", "manufacturer"} <= set(bom.columns)
    assert summary(bom)[0] == ("C1,C2,C3", 3, "Murata", "GRM155R71C104KA88D")
    assert summary(bom)[3] == ("U2", 1, "Texas Instruments", "TPS62840DLCR")


def csv_bytes(*lines: str, encoding="utf-8") -> bytes:
    return ("\n".join(lines) + "\n").encode(encoding)


@pytest.mark.parametrize("content, message", [
    (b"", "The file is empty."),
    (b"   \n\n", "The file is empty."),
    (b"%PDF-1.7 ...", "not a BOM"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "old binary Excel"),
    (b"PK\x03\x04garbage", "XLSX file could not be opened"),
    (b"\x00\x01\x02\x03binary\x00\x00\x05\x06\x07\x08\x09\x0a\x0b", "binary data"),
    (b"Designator,MPN\n", "header but no rows"),
    (b"Designator,Qty,Value\nR1,1,10k\n", "No column holds manufacturer part numbers"),
    (b"MPN,Ref\nA\x81\x8d\x8f\x90\x9d,R1\n", "text encoding could not be read"),
])
def test_unreadable_files_are_refused_with_a_clear_message(content, message):
    with pytest.raises(BomInvalid) as exc:
        bom_read(content)
    assert message in exc.value.errors[0]["message"]


def test_a_file_over_10_mb_is_refused():
    with pytest.raises(BomInvalid, match="larger than 10 MB"):
        bom_read(b"Designator,MPN\n" + b"R1,X\n" * 2_200_000)


@pytest.mark.parametrize("lines, row, column, message", [
    (["Designator,Qty,MPN", '"R1,R2",2,RC0603FR-0710KL', '"R2,R3",2,RC0603FR-0710KL'], 3, "Designator",
     "R2 is also on row 2"),
    (["Designator,Qty,MPN", '"C1-C4",3,GRM155R71C104KA88D'], 2, "Qty", "the quantity is 3 but 4 designators"),
    (["Designator,Qty,MPN", "U1,1,=HYPERLINK(\"http://x\")"], 2, "MPN", "formula"),
    (["Designator,Qty,MPN", "U1,1,@SUM(1+1)"], 2, "MPN", "formula"),
    (["Designator,Qty,MPN", "U1,one,STM32F103C8T6"], 2, "Qty", "'one' is not a quantity"),
    (["Designator,Qty,MPN", "R1-R5000,4999,RC0603FR-0710KL"], 2, "Designator", "more than 1,000 designators"),
    (["Designator,Qty,MPN", "R8-R1,8,RC0603FR-0710KL"], 2, "Designator", "runs backwards"),
])
def test_bad_rows_are_refused_naming_row_and_column(lines, row, column, message):
    with pytest.raises(BomInvalid) as exc:
        bom_read(csv_bytes(*lines))
    error = exc.value.errors[0]
    assert (error["row"], error["column"]) == (row, column) and message in error["message"]
    assert f"Row {row}, column “{column}”" in exc.value.message_dict["file"][0]


def test_plain_values_that_start_with_a_sign_are_not_formulas():
    bom = bom_read(csv_bytes("Designator,MPN,Description", "U1,LM7805,+5V regulator -40°C to +125°C", "U2,LM7905,-5V"))
    assert [l.description for l in bom.lines] == ["+5V regulator -40°C to +125°C", "-5V"]


def test_dnp_marks_in_any_column_and_zero_quantities_are_counted_not_read():
    bom = bom_read(csv_bytes("Designator,Qty,MPN,Value,Fitted", "R1,1,RC0603FR-0710KL,10k,Fitted",
                             "R2,1,RC0603FR-0710KL,10k DNP,Fitted", "R3,1,RC0603FR-0710KL,10k,Not Fitted",
                             "R4,0,RC0603FR-0710KL,10k,Fitted", "R5,1,RC0603FR-0710KL,Do not place,"))
    assert bom.dnp_rows == 4 and summary(bom) == [("R1", 1, "", "RC0603FR-0710KL")]


def test_several_mpns_in_one_cell_are_the_part_and_its_alternates():
    bom = bom_read(csv_bytes("Ref,Manufacturer,MPN", '"C1","Murata","GRM155R71C104KA88D / CL05B104KO5NNNC"'))
    assert bom.lines[0].mpn == "GRM155R71C104KA88D" and bom.lines[0].alternates == [("Murata", "CL05B104KO5NNNC")]


def test_rows_without_designators_take_their_quantity_and_merge():
    bom = bom_read(csv_bytes("MPN;Qty", "SCREW-M2x4;4", "SCREW-M2x4;2"))
    assert summary(bom) == [("", 6, "", "SCREW-M2x4")]


# --- Properties ---------------------------------------------------------------------------------

prefixes = st.sampled_from(["R", "C", "U", "LED", "SW", "TP", "J", "FB"])


@given(prefix=prefixes, start=st.integers(1, 5000), length=st.integers(0, 200))
def test_a_range_expands_to_every_designator_in_it(prefix, start, length):
    end = start + length
    expected = [f"{prefix}{n}" for n in range(start, end + 1)]
    assert parse_designators(f"{prefix}{start}-{prefix}{end}") == expected
    assert parse_designators(f"{prefix}{start}-{end}") == expected


@given(names=st.lists(st.tuples(prefixes, st.integers(1, 9999)), min_size=1, max_size=30),
       sep=st.sampled_from([",", ", ", " ", ";", " , "]))
def test_a_list_round_trips_whatever_the_separator(names, sep):
    designators = [f"{p}{n}" for p, n in names]
    assert parse_designators(sep.join(designators)) == designators


@given(st.text(max_size=40))
def test_designator_parsing_never_fails_other_than_with_a_value_error(text):
    try:
        result = parse_designators(text)
    except ValueError:
        return
    assert all(d.strip() == d and d for d in result)


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=30))
def test_formula_detection_flags_every_cell_starting_with_equals(text):
    assert is_formula("=" + text) == bool(text)


@given(mpns=st.lists(st.from_regex(r"[A-Z0-9][A-Z0-9\-,/#.]{2,14}[A-Z0-9]", fullmatch=True), min_size=1, max_size=4))
def test_split_mpns_keeps_commas_and_slashes_inside_an_mpn(mpns):
    assert split_mpns(" / ".join(mpns)) == mpns
    assert split_mpns("; ".join(mpns)) == mpns


def test_a_formula_in_an_xlsx_cell_is_refused_naming_its_cell():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Designator", "Qty", "MPN"])
    sheet.append(["U1", 1, "=CONCAT(\"STM32\",\"F103\")"])
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(BomInvalid) as exc:
        bom_read(buffer.getvalue(), filename="bom.xlsx")
    assert (exc.value.errors[0]["row"], exc.value.errors[0]["column"]) == (2, "MPN")


@pytest.mark.parametrize("encoding", ["gb18030", "utf-16", "utf-8-sig", "cp1252"])
def test_legacy_and_unicode_encodings_decode(encoding):
    description = "贴片电容 100nF" if encoding != "cp1252" else "Kondensator 100nF ±10% µ"
    content = f"Designator;MPN;Description\nC1;GRM155R71C104KA88D;{description}\n".encode(encoding)
    assert bom_read(content).lines[0].description == description


@pytest.mark.parametrize("lines, message", [
    (["MPN,Qty", "LM358,1e30"], "is not a quantity"),
    (["MPN,Qty", "LM358,NaN"], "is not a quantity"),
    (["MPN,Qty", "LM358,0.00001"], "smaller than 0.0001"),
    (["MPN,Qty", "LM358,900000", "LM358,900000"], "adds up to more than 1,000,000"),
])
def test_quantities_the_database_cannot_hold_are_refused(lines, message):
    with pytest.raises(BomInvalid) as exc:
        bom_read(csv_bytes(*lines))
    assert message in exc.value.errors[0]["message"]


def test_a_nul_character_past_the_first_kilobytes_is_refused():
    content = b"Designator,MPN\n" + b"R1,RC0603FR-0710KL\n" * 400 + b"R999,AB\x00C\n"
    with pytest.raises(BomInvalid, match="binary data"):
        bom_read(content)
