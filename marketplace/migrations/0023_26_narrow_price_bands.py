"""The price summaries again, for the bands of quantities 1, 2–4 and 5–9 (price_bands.TIERS)."""

import importlib

from django.db import migrations


def summarise_again(apps, schema_editor):
    apps.get_model("marketplace", "PartPriceBand").objects.all().delete()
    importlib.import_module("marketplace.migrations.0020_26_part_price_bands").summarise_existing_parts(apps, schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ("marketplace", "0022_26_category_vocabulary"),
    ]

    operations = [
        migrations.RunPython(summarise_again, migrations.RunPython.noop),
    ]
