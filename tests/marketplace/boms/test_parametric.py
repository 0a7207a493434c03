"""Passives given only by value and footprint are matched to parts whose parameters meet them."""

from decimal import Decimal
from pathlib import Path

import pytest

from marketplace.boms.matching import match_bom_lines
from marketplace.boms.reader import bom_read
from marketplace.boms.parametric import wanted_from
from tests.marketplace.factories import ListingFactory, PartFactory

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "boms" / "real"


@pytest.mark.parametrize("value, footprint, designators, expected", [
    ("100nF", "Capacitor_SMD:C_0402_1005Metric", ["C1"], ("capacitance", 1e-07, "0402")),
    ("0.1u", "C_0603_1608Metric", ["C2"], ("capacitance", 1e-07, "0603")),
    ("100n", "C0603", ["C3"], ("capacitance", 1e-07, "0603")),
    ("4K7", "R_0805", ["R1"], ("resistance", 4700, "0805")),
    ("4.7k", "Resistor_SMD:R_0805_2012Metric", ["R2"], ("resistance", 4700, "0805")),
    ("4700", "0805", ["R3"], ("resistance", 4700, "0805")),
    ("1K5", "R_0603_1608Metric", ["R4"], ("resistance", 1500, "0603")),
    ("22r", "R0402", ["R5"], ("resistance", 22, "0402")),
    ("3u3", "L_1008_2520Metric", ["L1"], ("inductance", 3.3e-06, "")),
    ("10uF 10V X5R", "0805", ["C4"], ("capacitance", 1e-05, "0805")),
    ("4,7u", "C_1206_3216Metric", ["C5"], ("capacitance", 4.7e-06, "1206")),
])
def test_values_and_packages_as_bom_authors_write_them(value, footprint, designators, expected):
    wanted = wanted_from(designators=designators, value=value, footprint=footprint, description="")
    if not expected[2]:
        assert wanted is None  # no package the catalogue files passives under: no guess
        return
    assert (wanted.quantity, wanted.value, wanted.package) == expected


def test_value_and_package_from_the_description_of_a_hand_made_bom():
    wanted = wanted_from(designators=["R6"], value="", footprint="", description="22K 1206")
    assert (wanted.quantity, wanted.value, wanted.package) == ("resistance", 22000, "1206")
    wanted = wanted_from(designators=["C1"], value="100nF", footprint="C0603",
                         description="CAP CER 0603 100nF 50V 10% X7R")
    assert (wanted.voltage, wanted.tolerance, wanted.dielectric) == (50, Decimal("10"), "x7r")


def cap(mpn, value, voltage, dielectric, package="0402", price="0.01", stock=10_000, lifecycle="active"):
    part = PartFactory(manufacturer="Samsung", mpn=mpn, category="Capacitor", lifecycle=lifecycle,
                       parameters={"value": value, "voltage": voltage, "dielectric": dielectric, "package": package})
    ListingFactory(part=part, stock=stock, breaks=[(1, price)])
    return part


class Line:
    def __init__(self, value, footprint, designators, description="", mpn="", quantity=1):
        self.value, self.footprint, self.designators, self.description = value, footprint, designators, description
        self.mpn, self.manufacturer, self.alternates, self.quantity = mpn, "", [], Decimal(quantity)


@pytest.mark.django_db
def test_the_cheapest_in_stock_part_meeting_voltage_and_dielectric_is_proposed():
    cheap_x5r = cap("CL05A104KA5NNNC", "100nF", "25V", "X5R", price="0.002")
    x7r_16v = cap("GRM155R71C104KA88D", "100nF", "16V", "X7R", price="0.006")
    x7r_50v = cap("CL05B104KB5NNNC", "0.1uF", "50V", "X7R", price="0.004")
    cap("CL05B104KB5NNNX", "100nF", "50V", "X7R", price="0.001", stock=0)  # none in stock
    cap("CL05B104KB5NNNE", "100nF", "50V", "X7R", price="0.0005", lifecycle="eol")  # end of life
    cap("CL10B104KB8NNNC", "100nF", "50V", "X7R", package="0603", price="0.001")  # another package
    cap("CL05B103KB5NNNC", "10nF", "50V", "X7R", price="0.001")  # another value
    any_cap, x7r_cap, hv_cap = match_bom_lines([
        Line("100nF", "Capacitor_SMD:C_0402_1005Metric", ["C1"]),
        Line("100n X7R", "C_0402_1005Metric", ["C2", "C3"], quantity=2),
        Line("0.1u 25V X7R", "C0402", ["C4"]),
    ])
    assert (any_cap.status, any_cap.part_id) == ("parametric", cheap_x5r.pk)
    assert "100 nF 0402" in any_cap.reason and "cheapest in stock" in any_cap.reason
    # in stock by price, then the one nobody stocks; the EOL part, other package and value are no candidates
    assert [c.part_id for c in any_cap.candidates][:3] == [cheap_x5r.pk, x7r_50v.pk, x7r_16v.pk]
    assert len(any_cap.candidates) == 4
    assert (x7r_cap.status, x7r_cap.part_id) == ("parametric", x7r_50v.pk)
    assert (hv_cap.status, hv_cap.part_id) == ("parametric", x7r_50v.pk) and "≥ 25 V" in hv_cap.reason


@pytest.mark.django_db
def test_an_mpn_match_wins_and_a_value_that_is_an_mpn_is_tried():
    exact = PartFactory(manufacturer="Bosch", mpn="BMP280")
    cap("CL05A104KA5NNNC", "100nF", "25V", "X5R")
    by_value, by_mpn, nothing = match_bom_lines([
        Line("BMP280", "Package_LGA:Bosch_LGA-8", ["U2"]),
        Line("100nF", "C_0402", ["C1"], mpn="CL05A104KA5NNNC"),
        Line("4.7k", "R_0402", ["R1"]),
    ])
    assert (by_value.status, by_value.part_id) == ("probable", exact.pk) and "value BMP280" in by_value.reason
    assert by_mpn.status == "exact"
    assert nothing.status == "none" and "no catalogue part has 4.7 kΩ 0402" in nothing.reason


@pytest.mark.django_db
def test_a_kicad_bom_of_passives_by_value_and_footprint_is_matched():
    """The real JLC-style KiCad export: its 100 nF / 0603 capacitors and 4K7 / 0603 resistor."""
    c100n = cap("CL10B104KB8NNNC", "100nF", "50V", "X7R", package="0603")
    r4k7 = PartFactory(manufacturer="Yageo", mpn="RC0603FR-074K7L", category="Resistor",
                       parameters={"resistance": "4.7k", "tolerance": "1%", "package": "0603"})
    ListingFactory(part=r4k7, breaks=[(1, "0.003")])
    bom = bom_read((REAL / "kicad_jlc_values_only__2468shrm_M4_CAN_Feather_Carrier_v6.csv").read_bytes())
    matches = dict(zip((l.value for l in bom.lines), match_bom_lines(bom.lines)))
    assert matches["0.1u"].part_id == c100n.pk and matches["100nF"].part_id == c100n.pk
    assert matches["4K7"].part_id == r4k7.pk and matches["4K7"].status == "parametric"
    assert matches["220nF"].status == "none"
