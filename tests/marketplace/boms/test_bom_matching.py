"""Matching BOM lines to catalogue parts: exact, probable with a reason, ambiguous, none."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.boms.matching import canonical_maker, match_lines, mpn_key, stripped_variants
from tests.marketplace.factories import PartFactory

pytestmark = pytest.mark.django_db


def match(maker, mpn, alternates=()):
    return match_lines([(maker, mpn, list(alternates))])[0]


def test_exact_ignores_case_spaces_dashes_and_slashes():
    part = PartFactory(manufacturer="Microchip", mpn="MCP73831T-2ACI/OT")
    for written in ("MCP73831T-2ACI/OT", "mcp73831t 2aci ot", "MCP73831T2ACIOT"):
        m = match("Microchip", written)
        assert (m.status, m.part_id, m.confidence) == ("exact", part.pk, Decimal("1"))
    assert match("", "mcp73831t-2aci/ot").status == "exact"  # no maker given


def test_a_manufacturer_alias_is_probable_with_its_reason():
    part = PartFactory(manufacturer="Texas Instruments", mpn="TPS62840DLCR")
    assert match("Texas Instruments Inc.", "TPS62840DLCR").status == "exact"  # corporate words do not count
    m = match("TI", "TPS62840DLCR")
    assert (m.status, m.part_id) == ("probable", part.pk)
    assert "alias" in m.reason and m.confidence == Decimal("0.95")


def test_the_same_mpn_from_another_maker_is_probable_and_lower():
    part = PartFactory(manufacturer="Diodes Inc", mpn="SS34")
    m = match("Vishay", "SS34")
    assert (m.status, m.part_id) == ("probable", part.pk) and m.confidence < Decimal("0.8")
    assert "another maker" in m.reason


@pytest.mark.parametrize("written, catalogue, hint", [
    ("LT1761ES5-3.3#TRPBF", "LT1761ES5-3.3", "#"),
    ("LM358DR/NOPB", "LM358DR", "packaging"),
    ("GRM155R71C104KA88D-ND", "GRM155R71C104KA88D", "Digi-Key"),
    ("595-TPS62840DLCR", "TPS62840DLCR", "Mouser"),
    ("PESD5V0S1BA,115", "PESD5V0S1BA", "NXP"),
    ("STM32F103C8T6TR", "STM32F103C8T6", "TR"),
    ("NRF52832-QFAA", "NRF52832-QFAA-R", "adds"),  # the catalogue has the reel suffix the BOM left off
])
def test_packaging_and_ordering_suffixes_are_probable(written, catalogue, hint):
    part = PartFactory(manufacturer="Any", mpn=catalogue)
    m = match("", written)
    assert (m.status, m.part_id) == ("probable", part.pk), m
    assert hint in m.reason and Decimal("0.7") <= m.confidence < 1


def test_one_mpn_from_two_makers_without_a_maker_is_ambiguous_with_both():
    a = PartFactory(manufacturer="Diodes Inc", mpn="SS34")
    b = PartFactory(manufacturer="Vishay", mpn="SS34")
    m = match("", "SS34")
    assert m.status == "ambiguous" and m.part_id is None
    assert {c.part_id for c in m.candidates} == {a.pk, b.pk}
    assert match("Vishay", "SS34").part_id == b.pk  # the maker decides


def test_nothing_fits_stays_none_and_alternates_rescue_or_substitute():
    main = PartFactory(manufacturer="Murata", mpn="GRM155R71C104KA88D")
    alt = PartFactory(manufacturer="Samsung", mpn="CL05B104KO5NNNC")
    assert match("", "NOSUCHPART123").status == "none"
    assert match("", "").reason == "no MPN on this line"
    m = match("Murata", "GRM155R71C104KA88D", [("Samsung", "CL05B104KO5NNNC")])
    assert m.part_id == main.pk and m.substitute_ids == [alt.pk]
    m = match("Murata", "NOSUCHCAP0402", [("Samsung", "CL05B104KO5NNNC")])
    assert (m.status, m.part_id) == ("probable", alt.pk) and "alternate" in m.reason


def test_matching_a_long_bom_takes_a_fixed_number_of_queries(django_assert_max_num_queries):
    parts = [PartFactory(manufacturer="Yageo", mpn=f"RC0603FR-07{n}KL") for n in range(40)]
    lines = [("Yageo", p.mpn, []) for p in parts] + [("", f"UNKNOWN{n:05d}", []) for n in range(40)]
    with django_assert_max_num_queries(3):
        results = match_lines(lines)
    assert [r.status for r in results] == ["exact"] * 40 + ["none"] * 40


mpn_text = st.from_regex(r"[A-Za-z0-9]{1,6}([-/ ,.#]?[A-Za-z0-9]{1,6}){0,4}", fullmatch=True)


@given(mpn_text, st.sampled_from(["-", " ", "/", "", "."]))
def test_normalisation_ignores_case_and_punctuation(mpn, sep):
    assert mpn_key(mpn) == mpn_key(mpn.lower()) == mpn_key(mpn.upper())
    assert mpn_key(mpn) == mpn_key(sep.join(mpn))
    assert mpn_key(mpn_key(mpn)) == mpn_key(mpn)  # idempotent
    assert mpn_key(mpn).isalnum() or mpn_key(mpn) == ""


@given(mpn_text)
def test_stripped_variants_are_shorter_and_never_the_mpn_itself(mpn):
    for key, reason in stripped_variants(mpn):
        assert key != mpn_key(mpn) and len(key) < len(mpn_key(mpn)) + 1 and reason


def test_aliases_are_one_maker():
    assert canonical_maker("TI") == canonical_maker("Texas Instruments Incorporated")
    assert canonical_maker("Linear Technology") == canonical_maker("Analog Devices Inc.")
    assert canonical_maker("Murata") != canonical_maker("Samsung")
