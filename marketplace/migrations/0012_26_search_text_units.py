"""Issue 26: a part's search text carries one canonical word per value with a unit (`10uf` for
`10uF`, `10 uF` and `10µF`), which keyword searches with a unit look for. Recomputed for every part."""

from django.db import migrations

from marketplace.catalogue.models import search_text_of


def refresh(apps, schema_editor):
    Part = apps.get_model("marketplace", "Part")
    batch, last = 2000, 0
    while True:
        parts = list(Part.objects.filter(pk__gt=last).order_by("pk")[:batch])
        if not parts:
            return
        for part in parts:
            part.search_text = search_text_of(manufacturer=part.manufacturer, mpn=part.mpn, category=part.category,
                                              description=part.description, parameters=part.parameters)
        Part.objects.bulk_update(parts, ["search_text"])
        last = parts[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0011_listing_fx_indexes"),("marketplace", "0011_listing_fx_indexes")]
    operations = [migrations.RunPython(refresh, migrations.RunPython.noop, elidable=True)]
