"""BOM workbench benchmark: upload and match a 1,000-line BOM against the `--scale large`
catalogue (≈100k parts, 1M listings), and the match precision on a labelled BOM. Prints Markdown
tables (recorded in docs/benchmarks.md).

    DATABASE_URL=postgres://kitstreet:kitstreet@127.0.0.1:55432/kit_bom \\
        .venv/bin/python bench/bom.py [--runs 7] [--lines 1000]

The BOM is written the way buyers' files are: Altium-style grouped CSV with designator lists,
MPNs as written by people and distributors (case, punctuation, ordering suffixes, Digi-Key and
Mouser numbers, maker aliases, another maker named, typos) and some parts the catalogue does not have. Every line is labelled
with the part it means (or none), so precision and recall are measured, not guessed. Each upload
runs inside a transaction that is rolled back, so reruns start equal.
"""

import argparse
import csv
import io
import os
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from marketplace.boms.matching import match_lines
from marketplace.models import Bom, Listing, Part  # noqa: E402
from marketplace.boms.services import bom_read_file, bom_upload
from organizations.models import Organization  # noqa: E402

ALIASES = {"Texas Instruments": "TI", "STMicroelectronics": "ST", "onsemi": "ON Semiconductor",
           "Diodes Inc": "Diodes Incorporated", "Samsung": "Samsung Electro-Mechanics", "Murata": "Murata Electronics",
           "Vishay": "Vishay Siliconix"}
SUFFIXES = ["-REEL7", "#PBF", "/NOPB", "-ND", ",115", "CT-ND"]


def labelled_bom(rng: random.Random, lines: int) -> tuple[bytes, list[int | None], list[str]]:
    """(CSV bytes, the part each line means or None, how each line was written)."""
    ids = list(Part.objects.filter(mpn_normalized__regex=r"[0-9]{5}").values_list("pk", flat=True))
    parts = Part.objects.in_bulk(rng.sample(ids, lines))
    rows, labels, kinds, next_ref = [], [], [], Counter()
    for part in parts.values():
        roll = rng.random()
        maker, mpn, label = part.manufacturer, part.mpn, part.pk
        if roll < 0.52:
            kind = "as in the catalogue"
            if rng.random() < 0.3:
                maker = maker + " Inc."
        elif roll < 0.65:
            kind = "case and punctuation"
            mpn = rng.choice([mpn.lower(), mpn.replace("-", ""), "-".join([mpn[:4], mpn[4:]])])
        elif roll < 0.73 and maker in ALIASES:
            kind, maker = "maker alias", ALIASES[maker]
        elif roll < 0.83:
            kind = "ordering suffix / distributor number"
            mpn = rng.choice([mpn + rng.choice(SUFFIXES), "595-" + mpn])
        elif roll < 0.87:
            kind, maker = "no maker given", ""
        elif roll < 0.90:
            kind, maker = "another maker named", rng.choice(["Yageo", "Murata", "Winbond", "Littelfuse"])
            maker = maker if maker != part.manufacturer else "Bourns"
        elif roll < 0.93:
            # A typo in one digit: often another real part, which no matcher can tell from the truth.
            kind = "typo in a digit"
            i = rng.choice([n for n, ch in enumerate(mpn) if ch.isdigit()])
            mpn = mpn[:i] + str((int(mpn[i]) + 1) % 10) + mpn[i + 1:]
        else:
            kind, label = "not in the catalogue", None
            mpn = f"{rng.choice(['XQ', 'ZT', 'KP'])}{rng.randint(10_000, 99_999)}-{rng.choice(['A', 'B'])}"
        prefix = {"Resistor": "R", "Capacitor": "C", "Ferrite bead": "FB", "Inductor": "L"}.get(part.category, "U")
        qty = rng.choice([1, 1, 1, 2, 4, 8])
        start = next_ref[prefix] + 1
        next_ref[prefix] += qty
        refs = f"{prefix}{start}-{prefix}{start + qty - 1}" if qty > 2 else ", ".join(f"{prefix}{start + i}" for i in range(qty))
        rows.append([part.description, refs, str(qty), maker, mpn])
        labels.append(label)
        kinds.append(kind)
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(["Description", "Designator", "Quantity", "Manufacturer 1", "Manufacturer Part Number 1"])
    writer.writerows(rows)
    return out.getvalue().encode(), labels, kinds


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def median_ms(fn, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        with transaction.atomic():
            times.append(timed(fn))
            transaction.set_rollback(True)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--lines", type=int, default=1000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run this on PostgreSQL: set DATABASE_URL=postgres://…/kit_bom (seeded with seed_demo --scale large)")
    if Listing.objects.count() < 1_000_000:
        sys.exit("Seed the catalogue first: manage.py seed_demo --scale large")
    rng = random.Random(9)
    content, labels, kinds = labelled_bom(rng, args.lines)
    buyer = Organization.objects.get(slug="lumen-labs")
    user = get_user_model().objects.get(username="buyer")
    client = APIClient()
    client.force_authenticate(user)
    client.credentials(HTTP_X_ORGANIZATION=str(buyer.pk))

    read = bom_read_file(content=content, filename="bench.csv")  # warm: imports, plans, caches
    match_lines([(l.manufacturer, l.mpn, l.alternates) for l in read.lines])

    def api_upload():
        response = client.post("/api/v1/boms/", {"file": SimpleUploadedFile("bench.csv", content)}, format="multipart")
        assert response.status_code == 201, response.content[:500]

    rows = [
        ("read + map + merge (no database)", *median_ms(lambda: bom_read_file(content=content, filename="bench.csv"), args.runs)),
        ("match 1,000 lines", *median_ms(lambda: match_lines([(l.manufacturer, l.mpn, l.alternates) for l in read.lines]), args.runs)),
        ("bom_upload: read, match, save", *median_ms(lambda: bom_upload(owner=buyer, content=content, filename="b.csv"), args.runs)),
        ("POST /api/v1/boms/ (whole upload, JSON answer)", *median_ms(api_upload, args.runs)),
    ]

    with transaction.atomic():
        bom = bom_upload(owner=buyer, content=content, filename="bench.csv")
        items = list(bom.items.order_by("line").values_list("status", "part_id"))
        transaction.set_rollback(True)
    proposed = correct = 0
    by_kind: dict[str, Counter] = {}
    for (status, part_id), label, kind in zip(items, labels, kinds):
        c = by_kind.setdefault(kind, Counter())
        c["lines"] += 1
        c[status] += 1
        if part_id is not None:
            proposed += 1
            correct += part_id == label
            c["right"] += part_id == label
            c["wrong"] += part_id != label
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    print(f"\n{Part.objects.count():,} parts, {Listing.objects.count():,} listings; PostgreSQL {version}; "
          f"{len(content) / 1024:.0f} KiB CSV, {len(labels)} lines; load average {load}\n")
    print("| step | runs | median ms | max ms |")
    print("| --- | ---: | ---: | ---: |")
    for label, median, worst in rows:
        print(f"| {label} | {args.runs} | {median:.0f} | {worst:.0f} |")
    labelled = sum(1 for l in labels if l is not None)
    print(f"\nPrecision {correct}/{proposed} = {correct / proposed:.3f} (lines given a part that is the right one); "
          f"recall {correct}/{labelled} = {correct / labelled:.3f} (labelled lines that got their part)\n")
    print("| written as | lines | exact | probable | ambiguous | none | right part | wrong part |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for kind, c in sorted(by_kind.items(), key=lambda kv: -kv[1]["lines"]):
        print(f"| {kind} | {c['lines']} | {c['exact']} | {c['probable']} | {c['ambiguous']} | {c['none']} | "
              f"{c['right']} | {c['wrong']} |")
    assert not Bom.objects.filter(filename__in=["bench.csv", "b.csv"]).exists()


if __name__ == "__main__":
    main()
