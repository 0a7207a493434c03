"""Cheaper guards on the hot path.

- journal entries lose the created_at index (ids already give "newest first");
- the PostgreSQL balance trigger aggregates only the statement's new postings. That is as strict
  as re-reading the whole entry: every statement must leave each entry it touches balanced, so by
  induction an entry balances iff each statement's new legs for it sum to zero per currency —
  and it costs no index lookups.
"""

from django.db import migrations, models

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION credit_posting_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE bad bigint;
BEGIN
  SELECT entry_id INTO bad FROM new_postings GROUP BY entry_id, currency HAVING SUM(amount) <> 0 LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'journal entry % does not balance', bad USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$;
"""
PG_FUNCTION_BEFORE = """
CREATE OR REPLACE FUNCTION credit_posting_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE bad bigint;
BEGIN
  SELECT p.entry_id INTO bad FROM credit_posting p
   WHERE p.entry_id IN (SELECT DISTINCT entry_id FROM new_postings)
   GROUP BY p.entry_id, p.currency HAVING SUM(p.amount) <> 0 LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'journal entry % does not balance', bad USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$;
"""


def forward(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # no params: the '%' of RAISE stays literal
            cursor.execute(PG_FUNCTION)
    elif connection.vendor == "sqlite":  # the table rebuild above dropped 0002's trigger
        schema_editor.execute(
            "CREATE TRIGGER IF NOT EXISTS credit_journalentry_no_update BEFORE UPDATE ON credit_journalentry "
            "BEGIN SELECT RAISE(ABORT, 'credit_journalentry is append-only: post a reversing entry instead'); END"
        )


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(PG_FUNCTION_BEFORE)


class Migration(migrations.Migration):
    dependencies = [("credit", "0003_posting_account_composite_index_only")]

    operations = [
        migrations.AlterField(model_name="journalentry", name="created_at", field=models.DateTimeField(auto_now_add=True)),
        migrations.RunPython(forward, backward),
    ]
