"""Credit stops depending on the marketplace: organisations come from `organizations`, and a
purchase order is a plain reference (its id, and its order's id) instead of a foreign key.

The purchase order columns keep their names and values; only the foreign-key constraints go.
"""

import django.db.models.deletion
from django.db import migrations, models


def backfill_order_ids(apps, schema_editor):
    PurchaseOrder = apps.get_model("marketplace", "PurchaseOrder")
    Payment = apps.get_model("credit", "PurchaseOrderPayment")
    order_of = dict(PurchaseOrder.objects.filter(
        pk__in=Payment.objects.values("purchase_order_id")).values_list("pk", "order_id"))
    for payment in Payment.objects.filter(order_id__isnull=True).only("pk", "purchase_order_id"):
        Payment.objects.filter(pk=payment.pk).update(order_id=order_of.get(payment.purchase_order_id))


class Migration(migrations.Migration):

    dependencies = [
        ('credit', '0005_entry_initiator_not_indexed'),
        ('marketplace', '0003_listing_search_columns'),
        ('organizations', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterField(
                    model_name='invoice',
                    name='purchase_order',
                    field=models.BigIntegerField(blank=True, db_column='purchase_order_id', db_index=True, null=True),
                ),
                migrations.AlterField(
                    model_name='purchaseorderpayment',
                    name='purchase_order',
                    field=models.BigIntegerField(db_column='purchase_order_id', unique=True),
                ),
            ],
            state_operations=[
                migrations.RemoveField(model_name='invoice', name='purchase_order'),
                migrations.RemoveField(model_name='purchaseorderpayment', name='purchase_order'),
                migrations.AddField(
                    model_name='invoice',
                    name='purchase_order_id',
                    field=models.BigIntegerField(blank=True, db_index=True, help_text='The marketplace purchase order it pays for', null=True),
                ),
                migrations.AddField(
                    model_name='purchaseorderpayment',
                    name='purchase_order_id',
                    field=models.BigIntegerField(unique=True),
                ),
            ],
        ),
        migrations.AddField(
            model_name='purchaseorderpayment',
            name='order_id',
            field=models.BigIntegerField(blank=True, help_text='The marketplace order the purchase order belongs to', null=True),
        ),
        migrations.RunPython(backfill_order_ids, migrations.RunPython.noop),
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                        migrations.AlterField(
                            model_name='account',
                            name='organization',
                            field=models.ForeignKey(blank=True, help_text='Empty for platform accounts.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='ledger_accounts', to='organizations.organization'),
                        ),
                        migrations.AlterField(
                            model_name='creditline',
                            name='buyer',
                            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='credit_lines_received', to='organizations.organization'),
                        ),
                        migrations.AlterField(
                            model_name='creditline',
                            name='supplier',
                            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='credit_lines_granted', to='organizations.organization'),
                        ),
                        migrations.AlterField(
                            model_name='creditline',
                            name='vouched_by',
                            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='credit_lines_vouched', to='organizations.organization'),
                        ),
                        migrations.AlterField(
                            model_name='journalentry',
                            name='organization',
                            field=models.ForeignKey(blank=True, db_index=False, help_text='Who initiated it, if an organisation did.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='organizations.organization'),
                        ),
                        migrations.AlterField(
                            model_name='purchaseorderpayment',
                            name='buyer',
                            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='organizations.organization'),
                        ),
                        migrations.AlterField(
                            model_name='purchaseorderpayment',
                            name='supplier',
                            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='organizations.organization'),
                        ),
                        migrations.AlterField(
                            model_name='supplierterms',
                            name='organization',
                            field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='credit_terms', to='organizations.organization'),
                        ),
            ],
        ),
    ]
