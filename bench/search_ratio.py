"""Each search shape through the REST API against a trivial authenticated call, in the same run:
`GET /api/v1/me/` is timed between every search request, and each shape's median is divided by its
median (issue 26's measure: ≤ 10×). Flat (`/listings/`), grouped (`/parts/search/`) and facets
(`/parts/facets/`), each with a new quantity per request. Prints a Markdown table (docs/benchmarks.md).

    DATABASE_URL=postgres://…/kit_large .venv/bin/python bench/search_ratio.py [--runs 15] [--seed 1] [--only keyword]

Needs the 1M-listing world (`seed_demo --scale large`) and the demo's `buyer`; in process (Django's
test client, no network), so both sides pay the same request handling.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

# The project root first, and not bench/ (see bench/marketplace.py).
sys.path = [str(Path(__file__).resolve().parent.parent)] + [
    p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from organizations.models import Organization  # noqa: E402

QUANTITIES = [1, 3, 10, 100, 250, 1000, 2500, 10000]
# Quantities that are not a multiple of the common pack sizes (5, 100, 5000, 10000): an order is
# then rounded up past the quantity asked, which the summaries' per-band bounds cannot see.
ODD_QUANTITIES = [7, 37, 108, 205, 777, 3333]
SHAPES = {
    "everything at a quantity": {},
    "dearest first": {"ordering": "-unit_price_at_qty"},
    "by extended price": {"ordering": "extended_price"},
    "in stock": {"in_stock": "1"},
    "in stock, dearest first": {"in_stock": "1", "ordering": "-unit_price_at_qty"},
    "in stock, by extended price": {"in_stock": "1", "ordering": "extended_price"},
    "category": {"category": "Capacitor"},
    "keyword q=resistor": {"q": "resistor"},
    "keyword q=capacitor (synonyms)": {"q": "capacitor"},
    "keyword q=nor flash": {"q": "nor flash"},
    "keyword, by extended price": {"q": "resistor", "ordering": "extended_price"},
    "a value with a unit (q=10uF)": {"q": "10uF"},
    "MPN prefix GRM": {"mpn": "GRM"},
    "MPN prefix GRM, by extended price": {"mpn": "GRM", "ordering": "extended_price"},
    "parameters, no category": {"parameters": "capacitance>=1uF"},
    "parameters in a category": {"category": "Capacitor", "parameters": "capacitance>=1uF"},
    "vendor": {"vendor": None},
    "lead time ≤ 3 days": {"max_lead_time_days": "3"},
}
ENDPOINTS = [("flat", "/api/v1/listings/"), ("grouped", "/api/v1/parts/search/"), ("facets", "/api/v1/parts/facets/")]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", default="", help="shapes whose name contains this")
    parser.add_argument("--odd", action="store_true", help="draw the quantities from ODD_QUANTITIES")
    args = parser.parse_args()
    quantities = ODD_QUANTITIES if args.odd else QUANTITIES
    rng = random.Random(args.seed)
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username="buyer"))
    vendor = Organization.objects.filter(is_trader=True, verified=True).order_by("pk").values_list("pk", flat=True)[3]

    def timed(url: str, params: dict) -> float:
        start = time.perf_counter()
        response = client.get(url, params)
        elapsed = (time.perf_counter() - start) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{url} {params}: {response.status_code} {response.content[:300]!r}")
        return elapsed

    for _ in range(3):  # warm-up
        timed("/api/v1/me/", {})
        timed("/api/v1/listings/", {"qty": 10})
    trivial, rows, refused = [], [], []
    for name, shape in SHAPES.items():
        if args.only not in name:
            continue
        params = {k: (vendor if v is None else v) for k, v in shape.items()}
        for kind, url in ENDPOINTS:
            times = []
            for _ in range(args.runs):
                trivial.append(timed("/api/v1/me/", {}))
                query = {**params, "qty": rng.choice(quantities)}
                try:
                    times.append(timed(url, query))
                except SystemExit as refusal:  # a 400 is reported, not timed
                    refused.append(f"{name}, {kind}: {refusal}")
                    break
            if times:
                rows.append((f"{name}, {kind}", times))
    me = statistics.median(trivial)
    load = open("/proc/loadavg").read().split()[:3] if Path("/proc/loadavg").exists() else ["?"] * 3
    print(f"`GET /api/v1/me/` median {me:.1f} ms over {len(trivial)} calls; load average {' '.join(load)}; "
          f"quantities {quantities}\n")
    print("| search shape, endpoint | runs | p50 ms | p95 ms | p50 ÷ /me/ |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, times in rows:
        ratio = statistics.median(times) / me
        print(f"| {label} | {len(times)} | {statistics.median(times):.1f} | {pct(times, 95):.1f} | "
              f"{ratio:.1f}×{' (over 10×)' if ratio > 10 else ''} |")
    for line in refused:
        print(f"\nRefused: {line}")


if __name__ == "__main__":
    main()
