"""`python manage.py seed_demo [--seed N] [--scale small|large] [--if-empty]`

A deterministic Huaqiangbei world. Each app contributes a `demo.py` with `seed(ctx)`; they run
in dependency order (organisations and catalogue, then credit, then trials).
"""

import importlib
import random
import time

from django.core.management.base import BaseCommand
from django.db import transaction

from marketplace.demo import DEMO_PASSWORD, DemoContext
from organizations.models import Organization

SEEDERS = ["marketplace.demo", "credit.demo", "marketplace.demo_orders", "trials.demo"]


class Command(BaseCommand):
    help = "Load the Kitstreet demo dataset (deterministic for a given --seed)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
        parser.add_argument("--scale", choices=["small", "large"], default="small",
                            help="small: a browsable market; large: ≥1M listings for benchmarks")
        parser.add_argument("--if-empty", action="store_true", help="do nothing if organisations already exist")

    def handle(self, *args, seed: int, scale: str, if_empty: bool, **options):
        if Organization.objects.exists():
            if if_empty:
                self.stdout.write("Demo data already present; leaving the database as it is.")
                self._print_logins()
                return
            self.stderr.write(self.style.WARNING("The database already has organisations; adding the demo world next to them."))
        ctx = DemoContext(rng=random.Random(seed), scale=scale, seed=seed, stdout=self.stdout,
                          show_progress=options.get("verbosity", 1) >= 1)
        started = time.monotonic()
        for module_name in SEEDERS:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name == module_name:
                    continue  # that app has no demo data (yet)
                raise
            with transaction.atomic():
                module.seed(ctx)
        self.stdout.write(self.style.SUCCESS(f"Demo world ready in {time.monotonic() - started:.1f} s."))
        self._print_logins()

    def _print_logins(self):
        self.stdout.write(
            "Demo logins (password: %s):\n"
            "  buyer         owner of a buyer organisation (search, quote, order, trials)\n"
            "  buyer_admin   admin at the same buyer (people, credit)\n"
            "  buyer_viewer  viewer at the same buyer (reads only)\n"
            "  supplier      owner of a trader and of a solution house (stock lists, kits, receivables)\n"
            "  operator      staff: the operator desk at /desk/ and the Django admin at /admin/" % DEMO_PASSWORD
        )
