"""`seed_demo --scale large` on a database that already holds the small demo adds the large
catalogue to it; anything that would duplicate the demo world is refused with a clear message."""

import pytest
from django.core.management import CommandError, call_command

from marketplace.demo import world as demo
from marketplace.models import Listing, Part
from organizations.models import Organization

pytestmark = pytest.mark.django_db


def test_large_is_added_to_the_small_world_once(monkeypatch):
    monkeypatch.setattr(demo, "LARGE_PARTS", 70)  # the same code path, a test-sized tail
    monkeypatch.setattr(demo, "LARGE_VENDORS", 15)
    call_command("seed_demo", "--seed", "3", verbosity=0)
    organisations, listings = Organization.objects.count(), Listing.objects.count()
    call_command("seed_demo", "--scale", "large", verbosity=0)
    assert Organization.objects.count() == organisations + 15
    assert Listing.objects.count() > listings + 70 * 10
    assert Part.objects.get(mpn="SN74LVC1G00000").search_text  # searchable like any part
    capacitor = Part.objects.filter(category="Capacitor", mpn__startswith="CL03A").first()
    assert "capacitance" in capacitor.parameter_values
    with pytest.raises(CommandError, match="already holds the demo world and its large catalogue"):
        call_command("seed_demo", "--scale", "large", verbosity=0)
    with pytest.raises(CommandError, match="--if-empty"):
        call_command("seed_demo", verbosity=0)
