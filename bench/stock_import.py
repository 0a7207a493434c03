"""Stock-list import benchmark: a supplier's 10,000- and 100,000-row stock list, imported fresh
(every row a new part and listing), then again unchanged, then with a third of the rows changed
(stock, MOQ or price breaks). Goal (issue 23): 10k rows <= 5 s, 100k rows <= 60 s, on PostgreSQL
with default durability. Prints a Markdown table (recorded in docs/benchmarks.md).

    DATABASE_URL=postgres://kit:kit@127.0.0.1:55401/kit_bench \\
        .venv/bin/python -P bench/stock_import.py [--rows 10000 100000]

Each size uses its own new supplier and MPN prefix, so runs do not see each other's rows. The
time is the service's whole call: parse and validate every row, then apply in chunks.
"""

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from marketplace.catalogue.listings import IMPORT_CHUNK_ROWS, stock_list_import  # noqa: E402
from organizations.models import Organization  # noqa: E402

HEADER = "manufacturer,mpn,stock,moq,multiple,lead_time_days,currency,price_breaks,category,description\n"


def stock_list(prefix: str, rows: int, *, changed_every: int = 0) -> bytes:
    lines = [HEADER]
    for i in range(rows):
        stock, moq, breaks = 1000 + i % 977, 10, "10:0.50;100:0.45;1000:0.40"
        if changed_every and i % changed_every == 0:
            kind = (i // changed_every) % 3
            stock, moq, breaks = (stock + 1, moq, breaks) if kind == 0 else (stock, 20, "20:0.50;100:0.45;1000:0.40") \
                if kind == 1 else (stock, moq, "10:0.48;100:0.44;1000:0.39")
        lines.append(f"Bench Semi,{prefix}-{i:07d},{stock},{moq},10,0,CNY,{breaks},Resistor,Chip resistor {i}\n")
    return "".join(lines).encode()


def timed(vendor, content: bytes) -> tuple[float, object]:
    started = time.perf_counter()
    result = stock_list_import(vendor=vendor, content=content)
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    print(f"database: {connection.vendor}; chunk: {IMPORT_CHUNK_ROWS} rows; load average: "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
    print("| rows | file | fresh (all new) | again (unchanged) | a third changed | rows/s fresh |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for rows in args.rows:
        tag = uuid.uuid4().hex[:6].upper()
        vendor = Organization.objects.create(name=f"Bench stock {tag}", slug=f"bench-stock-{tag.lower()}",
                                             is_supplier=True, is_trader=True, verified=True)
        fresh = stock_list(tag, rows)
        t_fresh, r_fresh = timed(vendor, fresh)
        t_again, r_again = timed(vendor, fresh)
        t_change, r_change = timed(vendor, stock_list(tag, rows, changed_every=3))
        assert r_fresh.created == rows and r_again.unchanged == rows, (r_fresh.as_dict(), r_again.as_dict())
        assert r_change.updated == (rows + 2) // 3, r_change.as_dict()
        print(f"| {rows:,} | {len(fresh) / 2**20:.1f} MB | {t_fresh:.1f} s | {t_again:.1f} s | {t_change:.1f} s | "
              f"{rows / t_fresh:,.0f} |")
    print(f"\nload average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
