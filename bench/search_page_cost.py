"""What a search page costs beyond the engine: through the REST API in process, per shape, the
request's CPU time, the part spent finding the page (`Engine.first` and `Engine.exact_count`) and
the rest — reading the page's rows, the grouped page's statistics and fillers, writing the JSON,
and the request's own overhead — next to `GET /api/v1/me/` in the same run. Prints a Markdown table
(docs/benchmarks.md, "Issue 26: what a page costs after the engine").

    DATABASE_URL=postgres://kitstreet:kitstreet@127.0.0.1:55407/kit_large \\
        .venv/bin/python bench/search_page_cost.py [--runs 20] [--repo PATH]

`--repo` measures another checkout of the project (say the commit before a change) with this
script. Needs the large demo world (`seed_demo --scale large`: its `buyer` user). CPU time, not
wall: the machine's cores are shared.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--runs", type=int, default=20)
parser.add_argument("--repo", default=str(Path(__file__).resolve().parent.parent))
args = parser.parse_args()
# The project root first, and not bench/ (a script here must not shadow a package).
sys.path = [args.repo] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
os.chdir(args.repo)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django

django.setup()

from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from marketplace.catalogue.search.engine import Engine

SHAPES = [
    ("everything, 100 pcs", {"qty": 100}),
    ("q=capacitor, 1,000 pcs", {"q": "capacitor", "qty": 1000}),
    ("mpn=GRM, 2,500 pcs", {"mpn": "GRM", "qty": 2500}),
    ("category, 10 pcs, USD", {"category": "Capacitor", "qty": 10, "currency": "USD"}),
    ("everything, no qty", {}),
]

in_engine = {"cpu": 0.0, "queries": 0}


def timed_engine(name: str) -> None:
    method = getattr(Engine, name)

    def wrapper(self, *a, **k):
        start, queries = time.process_time(), len(connection.queries)
        try:
            return method(self, *a, **k)
        finally:
            in_engine["cpu"] += time.process_time() - start
            in_engine["queries"] += len(connection.queries) - queries

    setattr(Engine, name, wrapper)


timed_engine("first")
timed_engine("exact_count")
client = APIClient()
client.force_authenticate(get_user_model().objects.get(username="buyer"))


def run(url: str, params: dict) -> tuple[float, float, int]:
    in_engine.update(cpu=0.0, queries=0)
    with CaptureQueriesContext(connection) as ctx:
        start = time.process_time()
        response = client.get(url, params)
        cpu = (time.process_time() - start) * 1000
    assert response.status_code == 200, response.content[:300]
    return cpu, in_engine["cpu"] * 1000, len(ctx.captured_queries) - in_engine["queries"]


me = []
print("| shape | CPU p50 ms | of which the engine | after the engine | queries after the engine |")
print("| --- | ---: | ---: | ---: | ---: |")
for label, params in SHAPES:
    for url, kind in (("/api/v1/listings/", "offers"), ("/api/v1/parts/search/", "by part")):
        run(url, params)  # warm
        rows = []
        for _ in range(args.runs):
            rows.append(run(url, params))
            start = time.process_time()
            client.get("/api/v1/me/")
            me.append((time.process_time() - start) * 1000)
        total = statistics.median(r[0] for r in rows)
        engine = statistics.median(r[1] for r in rows)
        after = statistics.median(r[0] - r[1] for r in rows)
        print(f"| {label}, {kind} | {total:.1f} | {engine:.1f} | {after:.1f} | {statistics.median(r[2] for r in rows):.0f} |",
              flush=True)
print(f"\n`GET /api/v1/me/`: CPU p50 {statistics.median(me):.1f} ms; load average {os.getloadavg()[0]:.1f}")
