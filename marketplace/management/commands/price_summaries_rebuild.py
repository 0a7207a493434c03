"""`python manage.py price_summaries_rebuild`: every part's price summaries (`PartPriceBand`, what
price-sorted searches read first) rebuilt from the listings. The listing writes keep them current;
this is for a database loaded behind the services' back (a restore, a bulk SQL fix). On PostgreSQL
the table is emptied by TRUNCATE and refilled in one transaction: price-sorted searches wait for it
(about 4 minutes for the 1M-listing world), so run it in a quiet hour."""

import time

from django.core.management.base import BaseCommand

from marketplace.catalogue.models import PartPriceBand


class Command(BaseCommand):
    help = "Rebuild every part's price summaries from the active listings of verified vendors."

    def handle(self, *args, **options):
        started = time.monotonic()
        rows = PartPriceBand.objects.refresh()
        self.stdout.write(f"{rows:,} price summary rows written in {time.monotonic() - started:.1f} s.")
