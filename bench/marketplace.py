"""Marketplace benchmark: every search shape at a quantity over ≥ 1M listings (p50/p95 of the first
page with its count, per ordering, per offer and grouped by part; facets; the API end to end), and
quoting a 300-line kit with ~20 offers per part. Prints a Markdown table (docs/benchmarks.md).

    DATABASE_URL=postgres://kitstreet:kitstreet@127.0.0.1:5433/kit_marketplace_bench \\
        .venv/bin/python bench/marketplace.py [--runs 30] [--quote-runs 20] [--no-quote | --quote-only] \\
        [--currency CNY] [--listing-currency CNY] [--sqlite]

Prices compare in `--currency`
(the display currency, at the rates in force; the demo world's listings are ~4 % USD);
`--listing-currency` keeps one currency's listings only (the single-currency case); `--sqlite`
allows a SQLite database (no sampled counts there: every count is exact).

Seeds the database with `seed_demo --scale large` first if it has fewer than 1M listings
(`--quote-only` skips the search cases and needs only the small demo). The quote benchmark builds
its kits inside a transaction that is rolled back, so reruns start equal. The sourcing cases:
(a) no vendor terms, every line solved exactly; (b) shipping fees, free-shipping thresholds and
minimum order values on every vendor and `max_vendors` = 5, the whole BOM optimised jointly.
Each case reports where the time goes (loading offers, planning, saving: CPU, wall, queries). Like
a gunicorn worker (config/gunicorn.py), the process freezes what it loaded (`gc.freeze()`) after one
warm-up quote.
"""

import argparse
import gc
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

# The project root first, and not bench/: a script here named like a package (marketplace, trials)
# must not shadow it, whether run as `python bench/x.py` or `python -P bench/x.py`.
sys.path = [str(Path(__file__).resolve().parent.parent)] + [
    p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from marketplace.models import Listing, Part, PriceBreak, VendorOrderTerms  # noqa: E402
from marketplace.catalogue.search.filters import search_filters
from marketplace.kits.services import kit_create
from marketplace.sourcing.quotes import quote_create
from organizations.models import Organization  # noqa: E402


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


CPU_TIMES: list[float] = []  # this process's CPU time of each timed call (the cores are shared)


def timed(fn) -> float:
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    CPU_TIMES.append((time.process_time() - cpu) * 1000)
    return (time.perf_counter() - start) * 1000


def ensure_data() -> int:
    count = Listing.objects.count()
    if count < 1_000_000:
        print(f"{count:,} listings: seeding --scale large first …", file=sys.stderr)
        call_command("migrate", verbosity=0)
        call_command("seed_demo", scale="large", verbosity=1)
        count = Listing.objects.count()
    return count


QUANTITIES = [1, 10, 100, 250, 500, 1000, 2500, 5000, 10000]
ORDERINGS = ["unit_price_at_qty", "-unit_price_at_qty", "extended_price"]


def shape_cases(rng: random.Random, runs: int) -> dict[str, list[dict]]:
    """Every search shape of issue 16, each with random values (a new quantity every run)."""
    tail = list(Part.objects.filter(mpn_normalized__regex=r"[0-9]{5}").values_list("mpn_normalized", flat=True)[:200_000])
    vendors = list(Organization.objects.filter(is_trader=True, verified=True).values_list("pk", flat=True))
    capacitances = ["1nF", "100nF", "1uF", "4.7uF", "10uF"]
    makers = {
        "no filter": lambda: {},
        "category": lambda: {"category": rng.choice(["Capacitor", "Flash", "Logic", "MOSFET", "LDO", "Resistor"])},
        "keyword": lambda: {"q": rng.choice(["capacitor", "nor flash", "mosfet", "ldo", "ferrite bead", "logic gate", "cap 0201"])},
        "category + keyword": lambda: {"category": "Flash", "q": rng.choice(["NOR", "SPI"])},
        "keyword, a value with a unit": lambda: {"q": rng.choice(["10uF", "10 uF", "10µF", "100nF", "capacitor 4.7uF"])},
        "MPN prefix (family)": lambda: {"mpn": rng.choice(tail).rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")},
        "MPN prefix (broad)": lambda: {"mpn": rng.choice(tail).rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")[:-2]},
        "parameters": lambda: {"category": "Capacitor", "parameters": f"capacitance>={rng.choice(capacitances)}"},
        "parameters, no category": lambda: {"parameters": f"capacitance>={rng.choice(capacitances)}"},
        "vendor": lambda: {"vendor_id": rng.choice(vendors)},
        "in stock": lambda: {"in_stock": True},
    }
    return {name: [{**make(), "qty": rng.choice(QUANTITIES)} for _ in range(runs)] for name, make in makers.items()}


def bench_search(rng: random.Random, runs: int, currency: str = "CNY", listing_currency: str | None = None) -> list[tuple]:
    """The first page of 50 and its count (exact when cheap, else the sampled estimate), as the
    API answers it, for every shape × ordering, one row per offer and grouped by part."""
    from marketplace.exceptions import SearchTooBroad
    from marketplace.catalogue.search.pricing import DisplayCurrency
    from marketplace.catalogue.search.results import offer_search, search_facets

    rows = []
    for label, cases in shape_cases(rng, runs).items():
        for group in (False, True):
            for ordering in ORDERINGS:
                times, sizes, paths = [], [], {}
                # Parts by their best offer, dearest first, price every match on broad searches (see
                # docs/benchmarks.md): a few runs show the cost without dominating the run time.
                slow = group and ordering.startswith("-")
                for params in (cases[:3] if slow else cases):
                    params = dict(params)
                    qty = params.pop("qty")
                    filters = search_filters(currency=listing_currency, **params)

                    def page():
                        try:  # the rates are read once per search, as per request
                            result = offer_search(viewer=None, filters=filters, qty=qty, ordering=ordering, limit=50, group=group,
                                                  display=DisplayCurrency(currency))
                        except SearchTooBroad:  # (before issue 26, grouped dearest-first over > 20,000 offers was a 400)
                            paths["refused"] = paths.get("refused", 0) + 1
                            return
                        sizes.append(result.count)
                        paths[result.path] = paths.get(result.path, 0) + 1

                    times.append(timed(page))
                note = (f"median {int(statistics.median(sizes)):,} {'parts' if group else 'offers'}; " if sizes else "") + \
                       ", ".join(f"{k} {v}" for k, v in sorted(paths.items()))
                rows.append((f"{label}, {'by part' if group else 'offers'}, {ordering}", len(times), pct(times, 50),
                             pct(times, 95), note))
        times = []
        for params in cases[: max(5, runs // 3)]:
            params = dict(params)
            qty = params.pop("qty")
            times.append(timed(lambda: search_facets(viewer=None, filters=search_filters(currency=listing_currency, **params),
                                                     qty=qty)))
        rows.append((f"{label}: facets", len(times), pct(times, 50), pct(times, 95), "separate call (/parts/facets/)"))
    # Units agree: every way of writing 10 µF finds the same parts (exact counts, grouped).
    from marketplace.catalogue.search.engine import Engine

    counts = {q: Engine(viewer=None, filters=search_filters(q=q), qty=None, ordering=None, group=True).exact_count()
              for q in ("10uF", "10 uF", "10µF", "10μF", "0.01mF")}
    rows.append(("keyword 10 µF written five ways: parts found", len(counts), 0, 0,
                 ", ".join(f"`{q}` {n:,}" for q, n in counts.items())))
    # End to end through the REST API (auth, validation, serialisation): grouped, keyword + quantity.
    client = APIClient()
    from django.contrib.auth import get_user_model

    client.force_authenticate(get_user_model().objects.get(username="buyer"))
    for url, label in (("/api/v1/parts/search/", "GET /api/v1/parts/search/?q=&qty="), ("/api/v1/listings/", "GET /api/v1/listings/?q=&qty=")):
        times = []
        for params in shape_cases(rng, max(20, runs))["keyword"]:
            extra = {"currency": currency, **({"listing_currency": listing_currency} if listing_currency else {})}
            times.append(timed(lambda: client.get(url, {**params, "ordering": "unit_price_at_qty", **extra})))
        rows.append((label, len(times), pct(times, 50), pct(times, 95), "page of 50, JSON"))
    return rows


def bench_vendors(count: int) -> list[int]:
    """`count` verified stall traders of the bench's own (rolled back with the kit)."""
    orgs = Organization.objects.bulk_create([
        Organization(name=f"Bench stall {i:03d}", slug=f"bench-stall-{i:03d}-{random.random():.9f}", is_supplier=True,
                     is_trader=True, verified=True) for i in range(count)])
    return [o.pk for o in orgs]


def build_kit(rng: random.Random, lines: int = 300, offers: int = 20, vendors: list[int] | None = None,
              stocks=(0, 200, 1000, 5000, 20000, 100000), prefix: str = "BENCH"):
    vendors = vendors or list(Organization.objects.filter(is_trader=True, verified=True).order_by("pk")
                              .values_list("pk", flat=True)[:400])
    parts = Part.objects.bulk_create([Part(manufacturer="Bench", mpn=f"{prefix}-{i:04d}", mpn_normalized=f"{prefix}{i:04d}",
                                           category="Bench") for i in range(lines)])
    listing_objs, break_specs = [], []
    for part in parts:
        base = Decimal(rng.randint(1, 3000)) / 100
        for vendor in rng.sample(vendors, offers):
            moq = rng.choice([1, 1, 10, 100, 1000])
            multiple = rng.choice([1, 1, 10]) if moq > 1 else 1
            listing_objs.append(Listing(vendor_id=vendor, part=part, stock=rng.choice(stocks),
                                        moq=moq, multiple=multiple, lead_time_days=rng.choice([0, 0, 0, 3, 7])))
            price = base * Decimal(rng.randint(85, 130)) / 100
            break_specs.append([(1, price), (100, price * Decimal("0.92")), (1000, price * Decimal("0.85")),
                                (5000, price * Decimal("0.8"))][: rng.randint(2, 4)])
    listing_objs = Listing.objects.bulk_create(listing_objs, batch_size=2000)
    PriceBreak.objects.bulk_create([PriceBreak(listing=l, min_qty=q, unit_price=p.quantize(Decimal("0.000001")))
                                    for l, spec in zip(listing_objs, break_specs) for q, p in spec], batch_size=5000)
    Listing.objects.filter(part__in=parts).refresh_search_columns()  # as the listing services do
    owner = Organization.objects.filter(is_solution_house=True, verified=True).order_by("pk").first()
    factory = Organization.objects.filter(is_factory=True, verified=True).order_by("pk").first()
    return kit_create(owner=owner, name="Bench 300-line kit", currency="CNY",
                      bom=[{"part": p, "quantity": Decimal(rng.choice([1, 1, 2, 4, 10])), "attrition": Decimal("0.02")} for p in parts],
                      assembly={"factory": factory, "setup_cost": Decimal(500), "unit_cost_breaks": [(1, Decimal(5)), (1000, Decimal(3))]},
                      design_fee_per_unit=Decimal(2), nre=Decimal(5000))


def sourcing_report(kit, buyer, quantity: int, options: dict | None = None) -> str:
    """Lines proven optimal and the gap the sourcing proved, from one more sourcing run."""
    from marketplace.sourcing.quotes import plan_for
    from marketplace.sourcing.options import quote_options_parse

    _, _, plan, _ = plan_for(organization=buyer, kit=kit, quantity=quantity,
                             options=quote_options_parse(options, kit_currency=kit.currency))
    lines = len(plan.lines)
    return (f"{plan.proven_lines}/{lines} lines proven optimal on their own; whole quote gap ≤ {plan.gap * 100:.3f} % "
            f"proven; {len(plan.subtotals)} vendors, shipping {plan.shipping and sum(plan.shipping.values()) / 1e6:.2f}")


class Phases:
    """Where a quote's time goes: CPU and wall ms, and SQL queries, of loading offers
    (`load_offers`), planning (`plan_problem`: the sourcing engine) and saving (from the Quote row
    to the end of `quote_create`), the rest being the kit tree, needs, rates and service lines.
    Installed around the functions `quote_create` calls, in this process only."""

    NAMES = ("load", "plan", "save")

    def __init__(self):
        from marketplace.sourcing import quotes

        self.quotes, self.current = quotes, None
        self.runs: list[dict] = []
        self.queries = {name: 0 for name in (*self.NAMES, "other")}

        def wrap(name, fn):
            def inner(*args, **kwargs):
                self.start(name)
                try:
                    return fn(*args, **kwargs)
                finally:
                    self.stop()
            return inner

        self.originals = {"load_offers": quotes.load_offers, "plan_problem": quotes.plan_problem,
                          "kit_freeze": quotes.kit_freeze}
        quotes.load_offers = wrap("load", quotes.load_offers)
        quotes.plan_problem = wrap("plan", quotes.plan_problem)
        create = quotes.Quote.objects.create

        def save_start(*args, **kwargs):
            self.start("save")
            return create(*args, **kwargs)

        quotes.Quote.objects.create = save_start
        freeze = quotes.kit_freeze

        def save_end(*args, **kwargs):
            try:
                return freeze(*args, **kwargs)
            finally:
                self.stop()

        quotes.kit_freeze = save_end

    def start(self, name):
        if self.current is None:  # not nested (planning inside assembly choice counts once)
            self.current = (name, time.process_time(), time.perf_counter())

    def stop(self):
        if self.current is not None:
            name, cpu, wall = self.current
            run = self.runs[-1]
            run[name] = (run.get(name, (0, 0))[0] + (time.process_time() - cpu) * 1000,
                         run.get(name, (0, 0))[1] + (time.perf_counter() - wall) * 1000)
            self.current = None

    def new_run(self):
        self.runs.append({})

    def count(self, execute, sql, params, many, context):
        self.queries[self.current[0] if self.current else "other"] += 1
        return execute(sql, params, many, context)

    def close(self):
        for name, fn in self.originals.items():
            setattr(self.quotes, name, fn)
        del self.quotes.Quote.objects.create

    def summary(self, walls: list[float], cpus: list[float]) -> str:
        parts = []
        for name in self.NAMES:
            cpu = [r.get(name, (0, 0))[0] for r in self.runs]
            wall = [r.get(name, (0, 0))[1] for r in self.runs]
            parts.append(f"{name} {pct(wall, 50):.0f} wall / {pct(cpu, 50):.0f} CPU, {self.queries[name] // len(self.runs)} q")
        rest = [w - sum(r.get(n, (0, 0))[1] for n in self.NAMES) for w, r in zip(walls, self.runs)]
        parts.append(f"other {pct(rest, 50):.0f} wall, {self.queries['other'] // len(self.runs)} q")
        return "p50 phases (ms): " + "; ".join(parts)


def bench_quote(rng: random.Random, runs: int) -> list[tuple]:
    buyer = Organization.objects.get(slug="lumen-labs")
    rows = []
    with transaction.atomic():
        vendors = bench_vendors(400)
        kit = build_kit(rng, vendors=vendors)
        # (b): a market of 25 broad stalls, each with a shipping fee, a free-shipping threshold
        # and a minimum order; the buyer wants at most 5 of them.
        stalls = bench_vendors(25)
        joint_kit = build_kit(rng, vendors=stalls, stocks=(5000, 20000, 100000), prefix="JOINT")
        VendorOrderTerms.objects.bulk_create([
            VendorOrderTerms(vendor_id=v, currency="CNY", shipping_fee=Decimal(rng.choice([8, 12, 15, 20, 30])),
                             free_shipping_over=rng.choice([None, Decimal(2000), Decimal(5000)]),
                             min_order_value=Decimal(rng.choice([50, 100, 200, 500])))
            for v in stalls])
        with connection.cursor() as cursor:  # statistics for the new rows, as autovacuum would give them
            for table in ("marketplace_part", "marketplace_listing", "marketplace_pricebreak"):
                cursor.execute(f"ANALYZE {table}")
        cases = [(kit, q, None, "(a) no vendor terms") for q in (100, 1000, 5000)]
        cases.append((joint_kit, 1000, {"max_vendors": 5}, "(b) shipping + minimum orders on every vendor, max_vendors=5"))
        quote_create(organization=buyer, kit=kit, quantity=100)  # warm up once, as a running server is
        gc.collect()  # and, as gunicorn's master does after warming (config/gunicorn.py), take what is
        gc.freeze()   # loaded out of the collector's reach, so full collections do not rescan it
        for case_kit, quantity, options, label in cases:
            times = []
            CPU_TIMES.clear()
            phases = Phases()
            try:
                with connection.execute_wrapper(phases.count):
                    for _ in range(runs):
                        phases.new_run()
                        times.append(timed(lambda: quote_create(organization=buyer, kit=case_kit, quantity=quantity,
                                                                options=options)))
            finally:
                phases.close()
            cpu = list(CPU_TIMES)
            rows.append((f"quote {label}: 300-line kit, 20 offers/part, {quantity:,} units", runs, pct(times, 50),
                         pct(times, 95), f"Python CPU p50 {pct(cpu, 50):.0f} / p95 {pct(cpu, 95):.0f} ms; "
                                         f"{phases.summary(times, cpu)}; "
                                         f"{sourcing_report(case_kit, buyer, quantity, options)}"))
        transaction.set_rollback(True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="searches per shape and ordering")
    parser.add_argument("--quote-runs", type=int, default=20)
    parser.add_argument("--no-quote", action="store_true", help="search shapes only")
    parser.add_argument("--quote-only", action="store_true", help="only the quote cases (needs only the small demo)")
    parser.add_argument("--currency", default="CNY", help="the display currency prices compare in")
    parser.add_argument("--listing-currency", default=None, help="only listings in this currency (single-currency case)")
    parser.add_argument("--sqlite", action="store_true", help="allow SQLite (exact counts, no TABLESAMPLE)")
    args = parser.parse_args()
    if connection.vendor != "postgresql" and not args.sqlite:
        sys.exit("Run this on PostgreSQL: set DATABASE_URL=postgres://…/kit_marketplace_bench")
    listings = Listing.objects.count() if args.quote_only else ensure_data()
    rng = random.Random(42)
    rows = []
    load_before = os.getloadavg()
    if not args.quote_only:
        from marketplace.catalogue.search.results import offer_search

        # Warm up the cache and the plans once, as a running server would be.
        for shape in ({}, {"q": "capacitor"}, {"category": "Flash"}):
            offer_search(viewer=None, filters=search_filters(**shape), qty=100)
        load_before = os.getloadavg()
        rows += bench_search(rng, args.runs, args.currency, args.listing_currency)
    if not args.no_quote:
        rows += bench_quote(rng, args.quote_runs)
    load_after = os.getloadavg()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = f"PostgreSQL {cursor.fetchone()[0]}"
    else:
        import sqlite3

        version = f"SQLite {sqlite3.sqlite_version}"
    from credit.fx import rate_table

    usd = Listing.objects.filter(currency="USD").count()
    print(f"\nPrices compared in {args.currency} (rates into it: {', '.join(f'{c} {r}' for c, r in rate_table(args.currency).items())})"
          f"{f'; only {args.listing_currency} listings' if args.listing_currency else ''}; {usd:,} listings in USD")
    print(f"\n{listings:,} listings, {PriceBreak.objects.count():,} price breaks, {Part.objects.count():,} parts; "
          f"{version}; load average (1, 5, 15 min) before {load_before[0]:.1f}/{load_before[1]:.1f}/{load_before[2]:.1f}, "
          f"after {load_after[0]:.1f}/{load_after[1]:.1f}/{load_after[2]:.1f} on {os.cpu_count()} CPUs\n")
    print("| case | runs | p50 ms | p95 ms | note |")
    print("| --- | ---: | ---: | ---: | --- |")
    for label, n, p50, p95, note in rows:
        print(f"| {label} | {n} | {p50:.1f} | {p95:.1f} | {note} |")


if __name__ == "__main__":
    main()
