"""`python manage.py verify_ledger`: recompute every balance from postings and check that every
entry balances; exits non-zero with a report on any mismatch."""

from django.core.management.base import BaseCommand, CommandError

from credit.selectors import ledger_verify


class Command(BaseCommand):
    help = "Check the credit ledger: stored balances and holds vs postings, balanced entries, invoices vs payables."

    def handle(self, *args, **options):
        report = ledger_verify()
        summary = f"{report.accounts} accounts, {report.entries} entries, {report.postings} postings"
        if report.ok:
            self.stdout.write(self.style.SUCCESS(f"Ledger OK: {summary}."))
            return
        for problem in report.problems:
            self.stderr.write(f"  - {problem}")
        raise CommandError(f"Ledger has {len(report.problems)} problem(s) ({summary}).")
