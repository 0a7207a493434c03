"""Price summaries per pack multiple (`PartPackBand`), for the parts already listed: what bounds an
extended price between pack sizes (later writes keep them in step)."""

import django.db.models.deletion
from django.db import migrations, models

from marketplace.catalogue.price_bands import summarise_with_packs


def summarise_packs_of_existing_parts(apps, schema_editor):
    Part, Listing = apps.get_model("marketplace", "Part"), apps.get_model("marketplace", "Listing")
    PriceBreak, PartPackBand = apps.get_model("marketplace", "PriceBreak"), apps.get_model("marketplace", "PartPackBand")
    ids = list(Part.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), 5000):
        chunk = ids[start:start + 5000]
        listings = Listing.objects.filter(part_id__gte=chunk[0], part_id__lte=chunk[-1], is_active=True, vendor_verified=True)
        breaks = (PriceBreak.objects.filter(listing__in=listings).order_by("listing_id", "min_qty")
                  .values_list("listing_id", "min_qty", "unit_price"))
        _, packs = summarise_with_packs(listings.order_by("pk").values_list("pk", "part_id", "currency", "moq", "multiple",
                                                                            "category_key"), breaks)
        PartPackBand.objects.bulk_create([PartPackBand(**row) for row in packs], batch_size=5000)


class Migration(migrations.Migration):

    dependencies = [
        ('marketplace', '0023_26_narrow_price_bands'),
    ]

    operations = [
        migrations.CreateModel(
            name='PartPackBand',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('currency', models.CharField(choices=[('CNY', 'Chinese yuan'), ('USD', 'US dollar')], max_length=3)),
                ('category_key', models.CharField(help_text='UPPER(part.category), as on the listings', max_length=100)),
                ('band', models.PositiveSmallIntegerField(help_text='index into price_bands.TIERS')),
                ('multiple', models.PositiveIntegerField()),
                ('unit_lo', models.DecimalField(decimal_places=6, max_digits=14)),
                ('part', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='marketplace.part')),
            ],
            options={
                'indexes': [models.Index(fields=['band', 'currency', 'multiple', 'unit_lo', 'part'], name='partpack_unit_lo_idx'), models.Index(fields=['band', 'currency', 'category_key', 'multiple', 'unit_lo', 'part'], name='partpack_cat_unit_lo_idx')],
                'constraints': [models.UniqueConstraint(fields=('part', 'currency', 'band', 'multiple'), name='partpackband_unique')],
            },
        ),
        migrations.RunPython(summarise_packs_of_existing_parts, migrations.RunPython.noop),
    ]
