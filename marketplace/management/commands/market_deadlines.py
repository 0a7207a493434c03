"""`python manage.py market_deadlines [--as-of ISO-8601]`: the market's deadline sweep, the same
code as the beat task (marketplace.orders.deadlines). `--as-of` sweeps as if it were that
moment (operators' backfills, tests); a moment before one already swept is refused."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from marketplace.exceptions import SweepInThePast
from marketplace.orders.deadlines import market_deadlines_sweep


class Command(BaseCommand):
    help = "Cancel purchase orders unconfirmed past confirm_by (refund, restock) and report those past ship_by."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", dest="as_of", help="sweep as of this moment (ISO 8601 with a time zone)")

    def handle(self, *args, as_of: str | None = None, **options):
        moment = None
        if as_of is not None:
            try:
                moment = parse_datetime(as_of)
            except ValueError:
                moment = None
            if moment is None:
                raise CommandError(f"--as-of {as_of!r} is not an ISO 8601 moment (e.g. 2026-12-07T06:00:00+00:00).")
        try:
            result = market_deadlines_sweep(as_of=moment)
        except SweepInThePast as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(self.style.SUCCESS(
            f"Swept as of {result.as_of.isoformat()}: {len(result.expired)} unconfirmed purchase order(s) cancelled"
            f"{' (' + ', '.join(map(str, result.expired)) + ')' if result.expired else ''}, "
            f"{len(result.overdue)} past ship_by."))
