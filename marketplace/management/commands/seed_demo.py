"""`python manage.py seed_demo [--seed N] [--scale small|large] [--if-empty]`

A deterministic Huaqiangbei world. Each app contributes a `demo.py` with `seed(ctx)`; they run
in dependency order (organisations and catalogue, then credit, then trials).
"""

import importlib
import random
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from marketplace.demo.world import (
    DEMO_PASSWORD,
    DemoContext,
    large_catalogue_present,
    seed_large,
)
from organizations.models import Organization

SEEDERS = ["marketplace.demo.world", "credit.demo", "marketplace.demo.orders", "trials.demo", "marketplace.demo.rfqs"]


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
            if get_user_model().objects.filter(username="buyer").exists():
                self._add_to_demo_world(seed=seed, scale=scale, verbosity=options.get("verbosity", 1))
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

    def _add_to_demo_world(self, *, seed: int, scale: str, verbosity: int) -> None:
        """The demo world is already here: `--scale large` adds the large catalogue to it (once);
        anything else would duplicate its logins, so it is refused with the way out."""
        if scale != "large":
            raise CommandError("This database already holds the demo world (the `buyer` login exists). "
                               "Use --if-empty to leave it as it is, --scale large to add the 1M-listing catalogue, "
                               "or start from an empty database.")
        if large_catalogue_present():
            raise CommandError("This database already holds the demo world and its large catalogue; nothing to add.")
        ctx = DemoContext(rng=random.Random(seed), scale=scale, seed=seed, stdout=self.stdout, show_progress=verbosity >= 1)
        started = time.monotonic()
        self.stdout.write("The demo world is already here: adding the large catalogue to it.")
        with transaction.atomic():
            seed_large(ctx)
        self.stdout.write(self.style.SUCCESS(f"Large catalogue added in {time.monotonic() - started:.1f} s."))

    def _print_logins(self):
        self.stdout.write(
            "Demo logins (password: %s):\n"
            "  buyer         owner of a buyer organisation (search, quote, order, trials)\n"
            "  buyer_admin   admin at the same buyer (people, credit)\n"
            "  buyer_viewer  viewer at the same buyer (reads only)\n"
            "  supplier      owner of a trader and of a solution house (stock lists, kits, receivables)\n"
            "  operator      staff: the operator desk at /desk/ and the Django admin at /admin/" % DEMO_PASSWORD
        )
