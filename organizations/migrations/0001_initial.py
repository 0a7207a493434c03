"""Organization and Membership move here from `marketplace`, keeping their tables.

State only: the tables `marketplace_organization` and `marketplace_membership` already exist (made
by marketplace 0001) and hold the data; this app takes over their models without touching a row.
marketplace 0004 then drops them from the marketplace's state.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('marketplace', '0003_listing_search_columns'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='Organization',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=200)),
                        ('slug', models.SlugField(max_length=220, unique=True)),
                        ('is_buyer', models.BooleanField(default=False)),
                        ('is_supplier', models.BooleanField(default=False)),
                        ('is_trader', models.BooleanField(default=False)),
                        ('is_solution_house', models.BooleanField(default=False)),
                        ('is_factory', models.BooleanField(default=False)),
                        ('verified', models.BooleanField(default=False, help_text='Set by operators; unverified suppliers are hidden from others.')),
                        ('verified_at', models.DateTimeField(blank=True, null=True)),
                        ('default_currency', models.CharField(default='CNY', max_length=3)),
                        ('location', models.CharField(blank=True, help_text='Stall or site, e.g. SEG Plaza 3F-A12', max_length=200)),
                        ('description', models.TextField(blank=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        'db_table': 'marketplace_organization',
                        'ordering': ['name'],
                        'constraints': [models.CheckConstraint(condition=models.Q(('is_supplier', True), models.Q(('is_factory', False), ('is_solution_house', False), ('is_trader', False)), _connector='OR'), name='organization_supplier_kinds_imply_supplier'), models.CheckConstraint(condition=models.Q(('is_buyer', True), ('is_supplier', True), _connector='OR'), name='organization_has_a_kind')],
                    },
                ),
                migrations.CreateModel(
                    name='Membership',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('role', models.CharField(choices=[('owner', 'Owner'), ('staff', 'Staff')], default='staff', max_length=10)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to=settings.AUTH_USER_MODEL)),
                        ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='organizations.organization')),
                    ],
                    options={
                        'db_table': 'marketplace_membership',
                        'ordering': ['organization__name'],
                        'constraints': [models.UniqueConstraint(fields=('user', 'organization'), name='membership_unique_user_org')],
                    },
                ),
            ],
        ),
    ]
