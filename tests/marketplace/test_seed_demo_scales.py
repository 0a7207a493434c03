"""`seed_demo --scale large` on a database that already holds the small demo adds the large
catalogue to it; anything that would duplicate the demo world is refused with a clear message."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from marketplace.demo import world as demo
from marketplace.catalogue.price_bands import PACK_COLUMNS, SUMMARY_COLUMNS
from marketplace.models import Listing, Part, PartPackBand, PartPriceBand
from organizations.models import Organization

pytestmark = pytest.mark.django_db


def _indexes() -> set[str]:
    if connection.vendor != "postgresql":
        return set()
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename IN "
                       "('marketplace_part', 'marketplace_listing', 'marketplace_pricebreak', 'marketplace_partpriceband', "
                       "'marketplace_partpackband')")
        return {name for (name,) in cursor.fetchall()}


def test_large_is_added_to_the_small_world_once(monkeypatch):
    monkeypatch.setattr(demo, "LARGE_PARTS", 70)  # the same code path, a test-sized tail
    monkeypatch.setattr(demo, "LARGE_VENDORS", 15)
    call_command("seed_demo", "--seed", "3", verbosity=0)
    organisations, listings = Organization.objects.count(), Listing.objects.count()
    indexes = _indexes()
    call_command("seed_demo", "--scale", "large", verbosity=0)
    assert _indexes() == indexes  # dropped for the load, every one built again
    # The search columns were written with the rows (no UPDATE afterwards): as the services keep them.
    written = list(Listing.objects.order_by("pk").values_list(*demo.SEARCH_COLUMNS))
    # So were the parts' price summaries (COPYed from the generated rows): as a rebuild makes them.
    summaries = sorted(PartPriceBand.objects.values_list(*SUMMARY_COLUMNS))
    packs = sorted(PartPackBand.objects.values_list(*PACK_COLUMNS))
    assert packs and PartPackBand.objects.filter(multiple__gt=1).exists()
    assert PartPriceBand.objects.filter(part__mpn="SN74LVC1G00000").exists()
    assert Listing.objects.filter(min_unit_price__isnull=True).count() < Listing.objects.count() / 10
    Listing.objects.all().refresh_search_columns()
    assert list(Listing.objects.order_by("pk").values_list(*demo.SEARCH_COLUMNS)) == written
    assert sorted(PartPriceBand.objects.values_list(*SUMMARY_COLUMNS)) == summaries
    assert sorted(PartPackBand.objects.values_list(*PACK_COLUMNS)) == packs
    assert Organization.objects.count() == organisations + 15
    assert Listing.objects.count() > listings + 70 * 10
    assert Part.objects.get(mpn="SN74LVC1G00000").search_text  # searchable like any part
    capacitor = Part.objects.filter(category="Capacitor", mpn__startswith="CL03A").first()
    assert "capacitance" in capacitor.parameter_values
    with pytest.raises(CommandError, match="already holds the demo world and its large catalogue"):
        call_command("seed_demo", "--scale", "large", verbosity=0)
    with pytest.raises(CommandError, match="--if-empty"):
        call_command("seed_demo", verbosity=0)
