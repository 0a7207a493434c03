"""The price summaries again: bands 1, 2–4 and 5–9 apart (price_bands.TIERS) and the cheapest order
per band from below (`order_lo`, which the threshold walk reads beside `ext_lo`)."""

import importlib

from django.db import migrations, models


def summarise_again(apps, schema_editor):
    apps.get_model("marketplace", "PartPriceBand").objects.all().delete()
    importlib.import_module("marketplace.migrations.0020_26_part_price_bands").summarise_existing_parts(apps, schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ('marketplace', '0022_26_category_vocabulary'),
    ]

    operations = [
        migrations.AddField(
            model_name='partpriceband',
            name='order_lo',
            field=models.DecimalField(decimal_places=6, help_text='the cheapest order in the band, from below', max_digits=24, null=True),
        ),
        migrations.AddIndex(
            model_name='partpriceband',
            index=models.Index(fields=['band', 'currency', 'order_lo', 'part'], name='partband_order_lo_idx'),
        ),
        migrations.AddIndex(
            model_name='partpriceband',
            index=models.Index(fields=['band', 'currency', 'category_key', 'order_lo', 'part'], name='partband_cat_order_lo_idx'),
        ),
        migrations.RunPython(summarise_again, migrations.RunPython.noop),
    ]
