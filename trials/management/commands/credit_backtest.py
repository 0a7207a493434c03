"""`python manage.py credit_backtest [--markets 10] [--makers 200] [--seed 2026] [--share 0.5] [--trust-cutoff 60]`

Simulates many markets of makers and their trials (seeded), lends on trust score alone and on
demand at equal approval rates, and prints approval, default and loss rates for each policy
(trials/backtest.py describes the world; docs/trials.md records a run)."""

from django.core.management.base import BaseCommand, CommandError

from trials.backtest import format_table, run_backtest


class Command(BaseCommand):
    help = "Backtest demand-backed credit against credit by trust score, at equal approval rates."

    def add_arguments(self, parser):
        parser.add_argument("--markets", type=int, default=10)
        parser.add_argument("--makers", type=int, default=200, help="makers per market")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--share", type=float, default=0.5, help="repayment share of each sale")
        parser.add_argument("--trust-cutoff", type=int, default=60, help="the trust policy approves scores at or above this")
        parser.add_argument("--drift", type=float, default=0.35,
                            help="log-sd of how far the reorder's demand drifts from the trial's")

    def handle(self, *args, **opts):
        if not 1 <= opts["markets"] <= 1000 or not 1 <= opts["makers"] <= 10_000:
            raise CommandError("--markets is 1 to 1000, --makers 1 to 10000.")
        if not 0 < opts["share"] <= 1 or not 0 <= opts["trust_cutoff"] <= 100 or opts["drift"] < 0:
            raise CommandError("--share is in (0, 1], --trust-cutoff in 0..100, --drift at least 0.")
        outcome = run_backtest(markets=opts["markets"], makers=opts["makers"], seed=opts["seed"], share=opts["share"],
                               trust_cutoff=opts["trust_cutoff"], drift=opts["drift"])
        self.stdout.write(format_table(outcome))
