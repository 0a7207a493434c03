"""`python manage.py price_summaries_rebuild`: every part's price summaries (`PartPriceBand` and, per
pack multiple, `PartPackBand`: what price-sorted searches read first) and the categories' vocabulary (`CategoryVocabulary`, which
categories a search's words can match in) rebuilt from the listings and parts. The listing writes keep them current;
this is for a database loaded behind the services' back (a restore, a bulk SQL fix). On PostgreSQL
the tables are emptied by TRUNCATE and refilled in one transaction: price-sorted searches wait for it
(about 5 minutes for the 1M-listing world on a quiet machine, 10 beside other work), so run it in a
quiet hour."""

import time

from django.core.management.base import BaseCommand

from marketplace.catalogue.models import CategoryVocabulary, PartPriceBand


class Command(BaseCommand):
    help = "Rebuild every part's price summaries (and the categories' vocabulary) from the listings and parts."

    def handle(self, *args, **options):
        started = time.monotonic()
        rows = PartPriceBand.objects.refresh()
        texts = CategoryVocabulary.objects.rebuild()
        self.stdout.write(f"{rows:,} price summary rows and {texts:,} category vocabularies written "
                          f"in {time.monotonic() - started:.1f} s.")
