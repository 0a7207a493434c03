"""The synonym list (marketplace/catalogue/search/synonyms.txt), one test per line: a part described
with one member of a group is found by every other member, typed as a buyer would."""

import pytest

from marketplace.catalogue.models import Part
from marketplace.catalogue.search.filters import keyword_q, keyword_terms
from marketplace.catalogue.search.synonyms import synonym_groups
from tests.marketplace.factories import PartFactory

GROUPS = synonym_groups()


@pytest.mark.django_db
@pytest.mark.parametrize("group", GROUPS, ids=[max(g, key=lambda t: (len(t), t)) for g in GROUPS])
def test_every_member_of_the_group_finds_a_part_described_with_another(group):
    members = sorted(group)
    described = PartFactory(mpn="SYN-1", category="Misc", description=f"a part called {members[0]}, SMD")
    unrelated = PartFactory(mpn="ZZZ-2", category="Misc", description="nothing alike")
    for member in members:
        for typed in {member, member.upper(), member.replace(" ", "-")}:
            found = set(Part.objects.filter(keyword_q(typed, prefix="")).values_list("pk", flat=True))
            assert described.pk in found and unrelated.pk not in found, (typed, members[0])


def test_the_list_has_english_and_chinese_for_the_common_parts():
    everything = {term for group in GROUPS for term in group}
    for english, chinese in [("button", "按键"), ("capacitor", "电容"), ("resistor", "电阻"), ("crystal", "晶振"),
                             ("led", "发光二极管"), ("connector", "连接器"), ("switch", "开关"), ("inductor", "电感")]:
        assert english in everything and chinese in everything


def test_a_phrase_is_one_term_and_other_words_still_narrow():
    assert len(keyword_terms("tactile switch")) == 1  # not "tactile" AND "switch" apart
    assert len(keyword_terms("5mm轻触开关")) == 2  # a Chinese member inside a word, and the rest of it
    assert keyword_terms("ESP32-C3 cap")[0] == ["esp32 c3", "esp32c3"]  # an MPN stays one term


@pytest.mark.django_db
def test_button_finds_tactile_switches_but_not_every_switch():
    tact = PartFactory(mpn="TS-1187A", category="Switch", description="5.1 × 5.1 mm tactile switch, SMT")
    slide = PartFactory(mpn="SS-12D00", category="Switch", description="slide switch, through hole")
    found = set(Part.objects.filter(keyword_q("button", prefix="")).values_list("pk", flat=True))
    assert tact.pk in found and slide.pk not in found
    assert {tact.pk, slide.pk} <= set(Part.objects.filter(keyword_q("开关", prefix="")).values_list("pk", flat=True))
