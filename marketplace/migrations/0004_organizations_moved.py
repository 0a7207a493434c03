"""Organization and Membership now belong to `organizations` (same tables): the marketplace's
foreign keys point there and the models leave the marketplace's state. No row or table changes."""

import django.db.models.deletion
from django.db import migrations, models


def content_types_follow(apps, schema_editor):
    """Admin history and permissions of the moved models follow them to their new app."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in ("organization", "membership"):
        ContentType.objects.filter(app_label="organizations", model=model).delete()
        ContentType.objects.filter(app_label="marketplace", model=model).update(app_label="organizations")


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('credit', '0006_plain_references'),
        ('marketplace', '0003_listing_search_columns'),
        ('organizations', '0001_initial'),
        ('trials', '0002_organization_moved'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveConstraint(
                    model_name='membership',
                    name='membership_unique_user_org',
                ),
                migrations.RemoveConstraint(
                    model_name='organization',
                    name='organization_supplier_kinds_imply_supplier',
                ),
                migrations.RemoveConstraint(
                    model_name='organization',
                    name='organization_has_a_kind',
                ),
                migrations.AlterField(
                    model_name='listing',
                    name='vendor',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='listings', to='organizations.organization'),
                ),
                migrations.AlterField(
                    model_name='order',
                    name='buyer',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='orders', to='organizations.organization'),
                ),
                migrations.AlterField(
                    model_name='kit',
                    name='owner',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='kits', to='organizations.organization'),
                ),
                migrations.AlterField(
                    model_name='quote',
                    name='organization',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='quotes', to='organizations.organization'),
                ),
                migrations.AlterField(
                    model_name='kit',
                    name='assembly_factory',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='assembly_kits', to='organizations.organization'),
                ),
                migrations.AlterField(
                    model_name='quoteallocation',
                    name='vendor',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='organizations.organization'),
                ),
                migrations.AlterField(
                    model_name='purchaseorder',
                    name='vendor',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='purchase_orders', to='organizations.organization'),
                ),
                migrations.RemoveField(
                    model_name='membership',
                    name='organization',
                ),
                migrations.RemoveField(
                    model_name='membership',
                    name='user',
                ),
                migrations.DeleteModel(
                    name='Organization',
                ),
                migrations.DeleteModel(
                    name='Membership',
                ),
            ],
        ),
        migrations.RunPython(content_types_follow, migrations.RunPython.noop),
    ]
