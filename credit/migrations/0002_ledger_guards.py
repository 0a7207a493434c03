"""Database guards for the ledger (why: the service checks are the first line, these the last).

PostgreSQL: a statement-level AFTER INSERT trigger on postings (with a transition table) checks
that every entry it touched sums to zero per currency — one check per INSERT/COPY statement, so
batches of thousands of entries pay for one query, not one per row. Postings and entries refuse
UPDATE and DELETE (append-only). SQLite (development, tests): refuses UPDATE only.
"""

from django.db import migrations

PG_FORWARD = """
CREATE FUNCTION credit_posting_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER credit_posting_balanced AFTER INSERT ON credit_posting
  REFERENCING NEW TABLE AS new_postings FOR EACH STATEMENT EXECUTE FUNCTION credit_posting_balanced();

CREATE FUNCTION credit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: post a reversing entry instead', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER credit_posting_append_only BEFORE UPDATE OR DELETE ON credit_posting
  FOR EACH ROW EXECUTE FUNCTION credit_append_only();
CREATE TRIGGER credit_journalentry_append_only BEFORE UPDATE OR DELETE ON credit_journalentry
  FOR EACH ROW EXECUTE FUNCTION credit_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS credit_posting_balanced ON credit_posting;
DROP TRIGGER IF EXISTS credit_posting_append_only ON credit_posting;
DROP TRIGGER IF EXISTS credit_journalentry_append_only ON credit_journalentry;
DROP FUNCTION IF EXISTS credit_posting_balanced();
DROP FUNCTION IF EXISTS credit_append_only();
"""
SQLITE_FORWARD = [
    f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: post a reversing entry instead'); END"
    for table in ("credit_posting", "credit_journalentry") for op in ("UPDATE",)
]  # no DELETE trigger on SQLite: test databases are flushed with DELETE (PostgreSQL truncates)


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:  # no params: the '%' of RAISE stays literal
            cursor.execute(PG_FORWARD)
    elif schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_FORWARD:
            schema_editor.execute(sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(PG_BACKWARD)
    elif schema_editor.connection.vendor == "sqlite":
        for table in ("credit_posting", "credit_journalentry"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")


class Migration(migrations.Migration):
    dependencies = [("credit", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
